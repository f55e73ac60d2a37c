import type { OtpContext } from '../crypto/canonical';

/** Everything a mail about one code needs. Holds the code: never log it. */
export interface OtpMailMessage {
  challengeId: string;
  to: string;
  code: string;
  purpose: string;
  locale?: string;
  context?: OtpContext;
  expiresAt: Date;
  requestedAt: Date;
  ip?: string;
  userAgent?: string;
}

/**
 * The mail port: where `OtpService` hands a code for delivery. The module
 * chooses the implementation (the development mailbox unless SMTP is set up);
 * a host may override the provider.
 */
export abstract class OtpMailer {
  abstract send(message: OtpMailMessage): Promise<void>;
}
