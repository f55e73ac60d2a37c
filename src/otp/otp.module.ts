import { DynamicModule, MiddlewareConsumer, Module, NestModule, Optional, Provider, RequestMethod } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { openAuditContextOnFastify, OtpAuditContextMiddleware } from './request-context/audit-context.middleware';
import { OTP_AUDIT_CONTROLLERS, OTP_AUDIT_PROVIDERS } from './audit/otp-audit.providers';
import { OtpAuditService } from './audit/otp-audit.service';
import { OtpAuditWriter } from './audit/otp-audit.writer';
import { OtpCipher } from './crypto/otp-cipher';
import { OtpKeyring } from './crypto/otp-keyring';
import { OtpErasureService } from './ops/otp-erasure.service';
import { OtpInvalidationService } from './ops/otp-invalidation.service';
import { OtpOperatorView } from './ops/otp-operator-view.service';
import { OTP_OPS_PROVIDERS } from './ops/otp-ops.providers';
import { OtpRetentionService } from './ops/otp-retention.service';
import { OtpAlertEngine } from './monitoring/otp-alert.engine';
import { OtpHealthChecks } from './monitoring/otp-health.checks';
import { OtpMetrics } from './monitoring/otp-metrics';
import { OTP_MONITORING_CONTROLLERS, OTP_MONITORING_PROVIDERS } from './monitoring/otp-monitoring.providers';
import { OtpEventBus } from './events/otp-event-bus';
import { otpControllerAt } from './http/otp.controller';
import { DevMailboxController } from './mail/dev-mailbox.controller';
import { OTP_MAILER_PROVIDERS } from './mail/otp-mailer.factory';
import { OtpMailOutboxStore } from './mail/outbox/otp-mail-outbox.store';
import { OtpMailDispatcher } from './mail/outbox/otp-mail.dispatcher';
import { OtpBudgetNotices } from './failure-budget/otp-budget-notices';
import { OtpMailer } from './mail/otp-mailer.port';
import { OTP_RATE_LIMIT_SETTINGS, OTP_RESOLVED_OPTIONS, OtpRateLimitSettings } from './core/otp-options.tokens';
import { OTP_ASYNC_OPTIONS_TYPE, OTP_MODULE_OPTIONS, OTP_OPTIONS_TYPE, OtpConfigurableModule } from './options/otp.module-definition';
import { OtpModuleExtras, OtpModuleOptions, ResolvedOtpOptions } from './options/otp-options.interface';
import { resolveOtpOptions } from './options/otp-options.resolver';
import { OtpService } from './challenges/otp.service';
import { OtpChallengeStore } from './persistence/otp-challenge.store';
import { OtpFailureBudgetStore } from './persistence/otp-failure-budget.store';
import { OTP_ENTITIES } from './persistence/otp.entities';
import { OtpSql } from './persistence/otp-sql';
import { OtpKeyFingerprintStore } from './persistence/otp-key-fingerprint.store';
import { OtpSchemaState } from './persistence/otp-schema.state';
import { OtpStartupCheck } from './ops/otp-startup.check';
import { OtpGuard } from './tokens/otp.guard';
import { OtpTokenService } from './tokens/otp-token.service';
import { OtpTokenStore } from './tokens/otp-token.store';
import { OTP_RATE_LIMIT_PROVIDERS } from './rate-limit/otp-rate-limit.providers';
import { OtpRateLimitSubjects } from './rate-limit/otp-rate-limit.subjects';
import { OtpKnownDeviceStore } from './sign-in/otp-known-device.store';
import { OtpSignInNotifier } from './sign-in/otp-sign-in-notifier';
import { OTP_THROTTLER_OPTIONS, OTP_THROTTLER_STORAGE } from './rate-limit/otp-rate-limit.keys';
import { OtpThrottlerGuard } from './rate-limit/otp-throttler.guard';


const providers: Provider[] = [
  // The only reader of the raw options: every feature reads its slice of the frozen result.
  {
    provide: OTP_RESOLVED_OPTIONS,
    useFactory: (options: OtpModuleOptions) => resolveOtpOptions(options),
    inject: [OTP_MODULE_OPTIONS],
  },
  {
    provide: OTP_RATE_LIMIT_SETTINGS,
    // Only what the guard reads: not the Redis URL (it may carry a password), not the storage.
    useFactory: (o: ResolvedOtpOptions): OtpRateLimitSettings => Object.freeze({ keyPrefix: o.rateLimits.keyPrefix }),
    inject: [OTP_RESOLVED_OPTIONS],
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
  ...OTP_MAILER_PROVIDERS,
  OtpEventBus,
  OtpSql,
  // Before anything touches an OTP table: the schema and the blind index key (issue 9).
  OtpSchemaState,
  OtpKeyFingerprintStore,
  OtpStartupCheck,
  OtpChallengeStore,
  OtpFailureBudgetStore,
  OtpMailOutboxStore,
  OtpMailDispatcher,
  OtpBudgetNotices,
  OtpService,
  OtpTokenStore,
  OtpTokenService,
  OtpGuard,
  OtpKnownDeviceStore,
  OtpSignInNotifier,
  ...OTP_RATE_LIMIT_PROVIDERS,
  ...OTP_AUDIT_PROVIDERS,
  ...OTP_MONITORING_PROVIDERS,
  ...OTP_OPS_PROVIDERS,
];

/**
 * Email one-time codes for a NestJS app: `OtpModule.forRoot(options)` or
 * `forRootAsync({ useFactory, inject, imports })`. Needs a TypeORM data source
 * in the host (with `OTP_ENTITIES` and the migrations in `migrations/`).
 */
@Module({
  imports: [TypeOrmModule.forFeature(OTP_ENTITIES), TerminusModule.forRoot({ logger: false })],
  providers,
  exports: [OtpService, OtpMailer, OtpEventBus, OtpTokenService, OtpGuard, OtpAuditService, OtpAuditWriter, OtpMetrics,
    OtpAlertEngine, OtpHealthChecks, OtpRetentionService, OtpErasureService, OtpInvalidationService,
    OtpMailDispatcher, OtpThrottlerGuard, OtpSignInNotifier, OtpOperatorView,
    // `@UseGuards(OtpThrottlerGuard)` in a host module builds the guard there: its dependencies
    // must be visible, and the host's instance then counts in the same store as the module's.
    // Not OTP_RESOLVED_OPTIONS: it holds the keys; the guard reads only the rate-limit settings.
    OTP_THROTTLER_OPTIONS, OTP_THROTTLER_STORAGE, OTP_RATE_LIMIT_SETTINGS, OtpRateLimitSubjects],
})
export class OtpModule extends OtpConfigurableModule implements NestModule {
  constructor(@Optional() private readonly adapterHost?: HttpAdapterHost) {
    super();
  }

  /** Opens the audit context (request id, IP, user agent) before guards run: a Fastify hook, else a Nest middleware. */
  configure(consumer: MiddlewareConsumer): void {
    if (openAuditContextOnFastify(this.adapterHost?.httpAdapter)) return;
    consumer.apply(OtpAuditContextMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }

  static override forRoot(options: typeof OTP_OPTIONS_TYPE): DynamicModule {
    return OtpModule.withControllers(super.forRoot(options), options);
  }

  static override forRootAsync(options: typeof OTP_ASYNC_OPTIONS_TYPE): DynamicModule {
    return OtpModule.withControllers(super.forRootAsync(options), options);
  }

  private static withControllers(definition: DynamicModule, extras: OtpModuleExtras): DynamicModule {
    const prefix = extras.routePrefix === undefined ? 'auth/otp' : extras.routePrefix;
    const controllers = prefix === false ? [] : [otpControllerAt(prefix)];
    const operator = extras.operatorRoutes ?? true ? [...OTP_AUDIT_CONTROLLERS, ...OTP_MONITORING_CONTROLLERS] : [];
    return {
      ...definition,
      global: extras.isGlobal ?? definition.global,
      controllers: [...(definition.controllers ?? []), ...controllers, DevMailboxController, ...operator],
    };
  }
}
