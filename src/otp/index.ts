// The one way into the OTP module: other modules import from here only.
export { OtpModule, OTP_ENTITIES } from './otp.module';
export { OtpService } from './otp.service';
export type { OtpModuleOptions, OtpPurposeOptions, OtpModuleExtras } from './otp-options.interface';
export type {
  OtpRateLimit,
  OtpRateLimitOptions,
  OtpRateLimitRedisOptions,
  OtpThrottlerName,
} from './rate-limit/otp-rate-limit-options.interface';
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
  OtpConfigError,
  OtpRequiredError,
  OtpUnavailableError,
} from './otp.errors';
export type { OtpErrorCode } from './otp.errors';
export { OtpMailer } from './mail/otp-mailer.port';
export type { OtpMailMessage } from './mail/otp-mailer.port';
export { DevMailboxMailer } from './mail/dev-mailbox.mailer';
export { OtpExceptionFilter } from './http/otp-exception.filter';
export type { OtpErrorBody } from './http/otp-exception.filter';
export { NoStoreInterceptor } from './http/no-store.interceptor';
export { parseKeyList, generateKeyLine } from './crypto/otp-keyring';
export type { OtpKey } from './crypto/otp-keyring';
export { contextHash, canonicalEmail } from './crypto/canonical';
export { OtpEventBus } from './events/otp-event-bus';
export type { OtpEventListener } from './events/otp-event-bus';
export type { OtpEvent, OtpEventName } from './events/otp-event';
export { OtpTokenService } from './tokens/otp-token.service';
export { OtpGuard } from './tokens/otp.guard';
export { RequireOtp, OtpProof, REQUIRE_OTP_METADATA, OTP_PROOF_REQUEST_KEY } from './tokens/require-otp.decorator';
export type { RequireOtpOptions, RequireOtpMetadata } from './tokens/require-otp.decorator';
export { OTP_AMR } from './tokens/otp-token.types';
export type { IssuedOtpToken, RedeemedOtpProof, OtpTokenExpectation, OtpAmr } from './tokens/otp-token.types';
