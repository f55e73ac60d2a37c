import { Module } from '@nestjs/common';
import { AccountsController } from './accounts.controller';
import { AccountsService } from './accounts.service';
import { AccountsStore } from './accounts.store';
import { PasswordChangeThrottleGuard } from './password-change.guard';
import { PasswordHasher } from './password-hasher';
import { SessionGuard } from './session.guard';

/**
 * Example accounts: email-code and password-plus-code sign-in, sessions. Uses
 * the OTP module (registered globally by `AppModule`) through its barrel only;
 * its settings come from `AccountsSettingsModule.forEnv` (also imported by `AppModule`).
 */
@Module({
  controllers: [AccountsController],
  providers: [AccountsStore, AccountsService, SessionGuard, PasswordHasher, PasswordChangeThrottleGuard],
  exports: [AccountsService, SessionGuard],
})
export class AccountsModule {}
