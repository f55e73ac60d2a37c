// The one way into the OTP module: what a host needs, and nothing else. Internals (dispatcher,
// renderer, writer, metadata keys, IP helpers) stay importable by deep path for this repo's own
// tests, bench and CLI; etc/nestjs-email-otp.api.md records this surface (`npm run api:report`).

// The module, its options and the pre-flight check of those options
export { OtpModule } from './otp.module';
export { OTP_ENTITIES } from './persistence/otp.entities';
export { validateOtpOptions } from './options/otp-options.preflight';
export type { OtpModuleOptions, OtpModuleExtras } from './options/otp-options.interface';
export type { OtpPurposeOptions, OtpContextDisplay, OtpDisplayLabel } from './core/purpose-options';
export type { OtpKey } from './crypto/otp-keyring';
export type {
  OtpRateLimit,
  OtpRateLimitOptions,
  OtpRateLimitRedisOptions,
  OtpThrottlerName,
} from './rate-limit/rate-limit-options';
export type { OtpMailOptions, OtpDkimOptions } from './mail/mail-options';
export type { OtpAuditOptions } from './audit/audit-options';
export type { OtpMonitoringOptions, OtpWindowRule } from './monitoring/monitoring-options';
export type { OtpRetentionOptions } from './ops/ops-options';
export type { OtpSignInNoticeOptions } from './sign-in/sign-in-options';

// Challenges
export { OtpService } from './challenges/otp.service';
export type {
  IssueChallengeInput,
  IssuedChallenge,
  VerifyChallengeInput,
  VerifiedChallenge,
  OtpContext,
  OtpContextValue,
} from './core/otp.types';
export { contextHash, canonicalEmail } from './crypto/canonical';
// A challenge id as a host keeps or logs it (its recipient tag zeroed)
export { untaggedChallengeId } from './crypto/challenge-id';

// A host's own hot statements by group commit, as the module's (the example app's code sign-in)
export { GroupCommit } from './persistence/group-commit';
export type { GroupCommitOptions } from './persistence/group-commit';

// Errors, and the JSON body every one of them becomes
export {
  OtpError,
  OtpInvalidError,
  OtpThrottledError,
  OtpPurposeUnknownError,
  OtpContextInvalidError,
  OtpEmailInvalidError,
  OtpConfigError,
  OtpRequiredError,
  OtpUnavailableError,
} from './core/otp.errors';
export type { OtpErrorCode } from './core/otp.errors';
export { OtpExceptionFilter } from './http-kit/otp-exception.filter';
export type { OtpErrorBody } from './http-kit/otp-exception.filter';

// Protecting a host's routes: the proof of a code, and the HTTP hardening its routes share
export { OtpGuard } from './tokens/otp.guard';
export { RequireOtp, OtpProof } from './tokens/require-otp.decorator';
export type { RequireOtpOptions } from './tokens/require-otp.decorator';
export { OtpTokenService } from './tokens/otp-token.service';
export { RedeemedOtpProof } from './tokens/otp-token.types';
export type { IssuedOtpToken, OtpTokenExpectation, OtpAmr } from './tokens/otp-token.types';
export { NoStoreInterceptor } from './http-kit/no-store.interceptor';
export { BodyDepthPipe } from './http-kit/body-depth.pipe';
export { JsonBodyGuard } from './http-kit/json-body.guard';
export { IsOtpEmail } from './http-kit/otp-email.validator';

// Rate limits; the store of the throttler's counters (memory, or Redis) is for hosts that limit routes of their own on it
export { OtpThrottlerGuard, OTP_THROTTLER_STORAGE } from './rate-limit/otp-throttler.guard';
export { OtpRateLimited } from './rate-limit/otp-rate-limit.decorator';
export type { OtpRateLimitScope } from './rate-limit/otp-rate-limit.decorator';
export type { OtpOrderedThrottlerStorage, OtpThrottlerHit, OtpThrottlerRecord } from './rate-limit/otp-throttler-storage';

// Mail: the port a host replaces to send through its own mailer
export { OtpMailer, OtpMailUnsupportedError } from './mail/otp-mailer.port';
export type {
  OtpMailMessage,
  OtpNoticeMessage,
  OtpBudgetNoticeMessage,
  OtpNewDeviceNoticeMessage,
  OtpMailReceipt,
} from './mail/otp-mailer.port';

// Events, sign-in notices
export { OtpEventBus } from './events/otp-event-bus';
export type { OtpEventListener } from './events/otp-event-bus';
export type { OtpEvent, OtpEventName } from './events/otp-event';
export { OtpSignInNotifier } from './sign-in/otp-sign-in-notifier';
export type { SignedInInput, SignInNoticeOutcome } from './sign-in/otp-sign-in-notifier';

// Audit; OTP_OPERATOR_ROUTE marks the operator routes, so a host can keep them off its public listener
export { OtpAuditService } from './audit/otp-audit.service';
export type { AuditQuery } from './audit/otp-audit.service';
export type { AuditRecord } from './audit/otp-audit.store';
export type { ChainVerification } from './audit/audit-chain.verifier';
export { Audited } from './audit/audited.decorator';
export { OTP_OPERATOR_ROUTE } from './operator/operator-route.decorator';
export { otpRequestId } from './request-context/audit-context';

// Logging with the module's central redaction (pino-http options; or one pino logger and the access line)
export { otpPinoHttpOptions, otpPinoHttpParams } from './logging/otp-log-redaction';
export type { OtpLoggingOptions, OtpPinoHttpOptions, OtpLogDestination } from './logging/otp-log-redaction';
export { otpAccessLog, otpLoggerOptions } from './logging/otp-request-log';
export type { OtpAccessLog, OtpAccessLogger, OtpLoggedRequest, OtpLoggedResponse, OtpLoggerOptions } from './logging/otp-request-log';

// Monitoring: metrics registry, health checks and alert sinks a host extends
export { OtpMetrics } from './monitoring/otp-metrics';
export { OtpHealthChecks } from './monitoring/otp-health.checks';
export type { OtpHealthCheckFn } from './monitoring/otp-health.checks';
export { LogAlertSink, WebhookAlertSink } from './monitoring/otp-alert.sinks';
export type { OtpAlert, OtpAlertSink, OtpAlertRule } from './monitoring/otp-alert.types';

// Operations: retention, erasure, invalidation
export { OtpRetentionService } from './ops/otp-retention.service';
export type { PurgeReport } from './ops/otp-retention.service';
export { OtpErasureService } from './ops/otp-erasure.service';
export type { ErasureReport } from './ops/otp-erasure.service';
export { OtpInvalidationService } from './ops/otp-invalidation.service';
export type { InvalidationReport } from './ops/otp-invalidation.service';
export { OtpOperatorView } from './ops/otp-operator-view.service';
export type { OtpAlertFeedItem, OtpKeyState } from './ops/otp-operator-view.service';
export type { OutboxStatusRow } from './mail/outbox/otp-mail-outbox.store';

// Migrations, for the host's own DataSource (or the bin)
// The locales an Accept-Language header asks for, best first: for host pages in the mail languages.
export { requestedLocales } from './i18n/accept-language';
export { OTP_MIGRATIONS } from '../../migrations';
export { OTP_MIGRATIONS_TABLE, runOtpMigrations, revertOtpMigration, showOtpMigrations } from './persistence/otp-migrations.runner';
export type { OtpMigrationsOptions } from './persistence/otp-migrations.runner';
