// The one way into the OTP module: other modules import from here only.
export { OtpModule, OTP_ENTITIES } from './otp.module';
export { OtpService } from './otp.service';
export type { OtpModuleOptions, OtpPurposeOptions, OtpModuleExtras } from './otp-options.interface';
export type {
  IssueChallengeInput,
  IssuedChallenge,
  VerifyChallengeInput,
  OtpProof,
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
} from './otp.errors';
export type { OtpErrorCode } from './otp.errors';
export { OtpMailer, OtpMailUnsupportedError } from './mail/otp-mailer.port';
export type { OtpMailMessage, OtpNoticeMessage, OtpMailReceipt } from './mail/otp-mailer.port';
export type { OtpMailOptions, OtpDkimOptions } from './mail/otp-mail-options.interface';
export { OtpMailDispatcher } from './mail/outbox/otp-mail.dispatcher';
export { OtpMailRenderer } from './mail/templates/otp-mail.renderer';
export type { OtpMailTemplate, OtpMailContexts, RenderedMail } from './mail/templates/otp-mail.templates';
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
