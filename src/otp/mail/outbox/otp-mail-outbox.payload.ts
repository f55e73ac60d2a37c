import type { OtpContext } from '../../crypto/canonical';

/** What a challenge's encrypted `delivery_ciphertext` holds (aad: the challenge id). */
export interface ChallengeDeliveryDetails {
  to: string;
  locale?: string;
  context?: OtpContext;
  ip?: string;
  userAgent?: string;
  requestedAt: string;
}

/** Encrypted payload of a code mail in the outbox (aad: the outbox row id). */
export interface CodeMailPayload {
  kind: 'code';
  to: string;
  code: string;
  purpose: string;
  locale?: string;
  context?: OtpContext;
  ip?: string;
  userAgent?: string;
  requestedAt: string;
}

/** Encrypted payload of a security notice in the outbox (aad: the outbox row id). */
export interface NoticeMailPayload {
  kind: 'budget-notice';
  to: string;
  locale?: string;
  ip?: string;
  userAgent?: string;
  happenedAt: string;
  lockSeconds: number;
}

export type OutboxPayload = CodeMailPayload | NoticeMailPayload;

/** A new outbox row written beside its challenge: id and sealed payload. */
export interface NewOutboxMail {
  id: string;
  payloadCiphertext: string;
}
