// The one way into the OTP module: other modules import from here only.
export { OtpModule, OTP_ENTITIES } from './otp.module';
export { OtpService } from './otp.service';
export type { OtpModuleOptions, OtpPurposeOptions, OtpContextDisplay, OtpDisplayLabel, OtpModuleExtras } from './otp-options.interface';
export type {
  OtpRateLimit,
  OtpRateLimitOptions,
  OtpRateLimitRedisOptions,
  OtpThrottlerName,
} from './rate-limit/otp-rate-limit-options.interface';
// The store of the throttler's counters (memory, or Redis with `rateLimits.redis`): for hosts that limit routes of their own on it.
export { OtpThrottlerGuard, OTP_THROTTLER_STORAGE } from './rate-limit/otp-throttler.guard';
export { OtpRateLimited } from './rate-limit/otp-rate-limit.decorator';
export type { OtpRateLimitScope } from './rate-limit/otp-rate-limit.decorator';
export type {
  IssueChallengeInput,
  IssuedChallenge,
  VerifyChallengeInput,
  OtpContext,
  OtpContextValue,
} from './otp.types';
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
} from './otp.errors';
export type { OtpErrorCode } from './otp.errors';
export { OtpMailer, OtpMailUnsupportedError } from './mail/otp-mailer.port';
export type {
  OtpMailMessage,
  OtpNoticeMessage,
  OtpBudgetNoticeMessage,
  OtpNewDeviceNoticeMessage,
  OtpMailReceipt,
} from './mail/otp-mailer.port';
export type { OtpMailOptions, OtpDkimOptions } from './mail/otp-mail-options.interface';
export { OtpMailDispatcher } from './mail/outbox/otp-mail.dispatcher';
export { OtpMailRenderer } from './mail/templates/otp-mail.renderer';
export type { OtpMailTemplate, OtpMailContexts, RenderedMail } from './mail/templates/otp-mail.templates';
export { DevMailboxMailer } from './mail/dev-mailbox.mailer';
export { OtpExceptionFilter } from './http/otp-exception.filter';
export type { OtpErrorBody } from './http/otp-exception.filter';
export { NoStoreInterceptor } from './http/no-store.interceptor';
export { BodyDepthPipe } from './http/body-depth.pipe';
export { JsonBodyGuard } from './http/json-body.guard';
export { parseKeyList, generateKeyLine } from './crypto/otp-keyring';
export type { OtpKey } from './crypto/otp-keyring';
export { contextHash, canonicalEmail } from './crypto/canonical';
export { IsOtpEmail } from './http/otp-email.validator';
export { OtpEventBus } from './events/otp-event-bus';
export type { OtpEventListener } from './events/otp-event-bus';
export type { OtpEvent, OtpEventName } from './events/otp-event';
export { OtpTokenService } from './tokens/otp-token.service';
export { OtpGuard } from './tokens/otp.guard';
export { RequireOtp, OtpProof, REQUIRE_OTP_METADATA, OTP_PROOF_REQUEST_KEY } from './tokens/require-otp.decorator';
export type { RequireOtpOptions, RequireOtpMetadata } from './tokens/require-otp.decorator';
export { OTP_AMR, RedeemedOtpProof } from './tokens/otp-token.types';
export type { IssuedOtpToken, OtpTokenExpectation, OtpAmr } from './tokens/otp-token.types';
export { OtpAuditService } from './audit/otp-audit.service';
export type { AuditQuery } from './audit/otp-audit.service';
export type { AuditRecord } from './audit/otp-audit.store';
export { OtpAuditWriter } from './audit/otp-audit.writer';
export { Audited } from './audit/audited.decorator';
export { OTP_OPERATOR_ROUTE } from './audit/operator-route.decorator';
export { OtpAuditInterceptor } from './audit/audit.interceptor';
export { currentAuditContext } from './audit/audit-context';
export { otpRequestId } from './audit/audit-context';
export type { AuditRequestContext } from './audit/audit-context';
export type { OtpAuditOptions } from './audit/otp-audit-options';
export { verifyAuditChain } from './audit/audit-chain.verifier';
export type { ChainVerification } from './audit/audit-chain.verifier';
export { otpPinoHttpOptions, otpPinoHttpParams, maskEmail, maskText, OTP_LOG_REDACT_PATHS } from './logging/otp-log-redaction';
export type { OtpLoggingOptions } from './logging/otp-log-redaction';
export { OtpMetrics } from './monitoring/otp-metrics';
export { OtpAlertEngine } from './monitoring/otp-alert.engine';
export { OtpHealthChecks } from './monitoring/otp-health.checks';
export type { OtpHealthCheckFn } from './monitoring/otp-health.checks';
export { LogAlertSink, WebhookAlertSink } from './monitoring/otp-alert.sinks';
export type { OtpAlert, OtpAlertSink, OtpAlertRule } from './monitoring/otp-alert.types';
export type { OtpMonitoringOptions, OtpWindowRule } from './monitoring/otp-monitoring-options';
export { OtpRetentionService } from './ops/otp-retention.service';
export type { PurgeReport } from './ops/otp-retention.service';
export { OtpErasureService } from './ops/otp-erasure.service';
export type { ErasureReport } from './ops/otp-erasure.service';
export { OtpInvalidationService } from './ops/otp-invalidation.service';
export type { InvalidationReport } from './ops/otp-invalidation.service';
export { OtpOperatorView } from './ops/otp-operator-view.service';
export type { OtpAlertFeedItem, OtpKeyState } from './ops/otp-operator-view.service';
export type { OutboxStatusRow } from './mail/outbox/otp-mail-outbox.store';
export { planKeyRotation } from './ops/otp-key-rotation';
export type { RotationPlan } from './ops/otp-key-rotation';
export type { OtpRetentionOptions } from './ops/otp-ops-options';
export { isLoopbackAddress, isLoopbackHost } from './net/loopback';
export { ipNetwork } from './net/ip-network';
export { OtpSignInNotifier } from './sign-in/otp-sign-in-notifier';
export type { SignedInInput, SignInNoticeOutcome } from './sign-in/otp-sign-in-notifier';
export type { OtpSignInNoticeOptions } from './sign-in/otp-sign-in-notice-options';
export { OTP_MIGRATIONS } from '../../migrations';
export { OTP_MIGRATIONS_TABLE, runOtpMigrations, revertOtpMigration, showOtpMigrations } from './cli/otp-migrations.runner';
export type { OtpMigrationsOptions } from './cli/otp-migrations.runner';
