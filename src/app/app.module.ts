import { DynamicModule, Module } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OtpModule } from 'nestjs-email-otp';
import { AccountsModule, AccountsSettingsModule } from './accounts';
import { otpOptionsFromEnv } from './app.config';
import { loggingModule } from './app.logging';
import { appDataSourceFactory, typeOrmModuleOptions } from './database/database.options';
import { ConsoleModule } from './pages/console';
import { PagesModule } from './pages/pages.module';
import { PaymentsModule } from './payments/payments.module';

/**
 * The example host: a small modular monolith using the OTP module through its
 * barrel. Configured from an environment (`process.env` in `main.ts`; tests
 * pass their own).
 */
@Module({})
export class AppModule {
  static forEnv(env: NodeJS.ProcessEnv = process.env, extras: { logDestination?: DestinationStream } = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        loggingModule(env, extras.logDestination),
        ScheduleModule.forRoot(),
        TypeOrmModule.forRootAsync({ useFactory: () => typeOrmModuleOptions(env), dataSourceFactory: appDataSourceFactory }),
        OtpModule.forRootAsync({ useFactory: () => otpOptionsFromEnv(env), isGlobal: true }),
        AccountsSettingsModule.forEnv(env),
        AccountsModule,
        PaymentsModule,
        ConsoleModule.forEnv(env),
        PagesModule.forEnv(env),
      ],
    };
  }
}
