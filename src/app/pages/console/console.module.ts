import { DynamicModule, Module } from '@nestjs/common';
import { ConsoleAssetsController, ConsoleController } from './console.controller';
import { ConsoleDataController } from './console-data.controller';
import { ConsoleEnabledGuard, ConsoleHeadersGuard, ConsoleSessionGuard } from './console.guards';
import { PageQueryGuard } from '../page-query.guard';
import { ConsoleSessionStore } from './console-session.store';
import { CONSOLE_SETTINGS, consoleSettingsFromEnv } from './console.settings';

/**
 * The operator console at `/admin` (docs/pages.md): read-only views of the audit trail, mail
 * deliveries, alerts and keys behind `OTP_ADMIN_TOKEN`; 404 without it.
 */
@Module({})
export class ConsoleModule {
  static forEnv(env: NodeJS.ProcessEnv): DynamicModule {
    return {
      module: ConsoleModule,
      controllers: [ConsoleController, ConsoleAssetsController, ConsoleDataController],
      providers: [
        { provide: CONSOLE_SETTINGS, useValue: consoleSettingsFromEnv(env) },
        ConsoleSessionStore,
        ConsoleHeadersGuard,
        PageQueryGuard,
        ConsoleEnabledGuard,
        ConsoleSessionGuard,
      ],
      exports: [ConsoleSessionStore],
    };
  }
}
