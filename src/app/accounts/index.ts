// The accounts module's public surface for the rest of the example app.
export { AccountsModule } from './accounts.module';
export { AccountsSettingsModule, accountsSettingsFromEnv } from './accounts.settings';
export type { AccountsSettings } from './accounts.settings';
export { AccountsService } from './accounts.service';
export type { CurrentAccount } from './accounts.service';
export { SessionGuard, Account, currentAccountEmail } from './session.guard';
