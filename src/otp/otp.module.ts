import { DynamicModule, Module, Provider } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OtpCipher } from './crypto/otp-cipher';
import { OtpKeyring } from './crypto/otp-keyring';
import { OtpEventBus } from './events/otp-event-bus';
import { otpControllerAt } from './http/otp.controller';
import { DevMailboxController } from './mail/dev-mailbox.controller';
import { otpMailerProvider } from './mail/otp-mailer.factory';
import { OtpMailOutboxStore } from './mail/outbox/otp-mail-outbox.store';
import { OtpMailDispatcher } from './mail/outbox/otp-mail.dispatcher';
import { OtpSecurityNotices } from './mail/outbox/otp-security-notices';
import { OtpMailer } from './mail/otp-mailer.port';
import {
  OTP_ASYNC_OPTIONS_TYPE,
  OTP_MODULE_OPTIONS,
  OTP_OPTIONS_TYPE,
  OTP_RESOLVED_OPTIONS,
  OtpConfigurableModule,
} from './otp.module-definition';
import { OtpModuleOptions, ResolvedOtpOptions } from './otp-options.interface';
import { resolveOtpOptions } from './otp-options.resolver';
import { OtpService } from './otp.service';
import { OtpChallengeEntity } from './persistence/otp-challenge.entity';
import { OtpChallengeStore } from './persistence/otp-challenge.store';
import { OtpFailureBudgetEntity } from './persistence/otp-failure-budget.entity';

/** Entities of the module, for a host's TypeORM configuration. */
export const OTP_ENTITIES = [OtpChallengeEntity, OtpFailureBudgetEntity];

const providers: Provider[] = [
  {
    provide: OTP_RESOLVED_OPTIONS,
    useFactory: (options: OtpModuleOptions) => resolveOtpOptions(options),
    inject: [OTP_MODULE_OPTIONS],
  },
  {
    provide: OtpKeyring,
    useFactory: (o: ResolvedOtpOptions) => new OtpKeyring(o.keys, o.indexKey),
    inject: [OTP_RESOLVED_OPTIONS],
  },
  {
    provide: OtpCipher,
    useFactory: (o: ResolvedOtpOptions) => new OtpCipher(o.encryptionKeys),
    inject: [OTP_RESOLVED_OPTIONS],
  },
  otpMailerProvider,
  OtpEventBus,
  OtpChallengeStore,
  OtpMailOutboxStore,
  OtpMailDispatcher,
  OtpSecurityNotices,
  OtpService,
];

/**
 * Email one-time codes for a NestJS app: `OtpModule.forRoot(options)` or
 * `forRootAsync({ useFactory, inject, imports })`. Needs a TypeORM data source
 * in the host (with `OTP_ENTITIES` and the migrations in `migrations/`).
 */
@Module({
  imports: [TypeOrmModule.forFeature(OTP_ENTITIES)],
  providers,
  exports: [OtpService, OtpMailer, OtpEventBus, OtpMailDispatcher],
})
export class OtpModule extends OtpConfigurableModule {
  static override forRoot(options: typeof OTP_OPTIONS_TYPE): DynamicModule {
    return OtpModule.withControllers(super.forRoot(options), options.routePrefix);
  }

  static override forRootAsync(options: typeof OTP_ASYNC_OPTIONS_TYPE): DynamicModule {
    return OtpModule.withControllers(super.forRootAsync(options), options.routePrefix);
  }

  private static withControllers(definition: DynamicModule, routePrefix: string | false | undefined): DynamicModule {
    const prefix = routePrefix === undefined ? 'auth/otp' : routePrefix;
    const controllers = prefix === false ? [] : [otpControllerAt(prefix)];
    return { ...definition, controllers: [...(definition.controllers ?? []), ...controllers, DevMailboxController] };
  }
}
