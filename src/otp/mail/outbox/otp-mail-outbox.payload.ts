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

/**
 * Encrypted payload of a new-device sign-in notice (aad: the outbox row id). Coarse
 * facts only: the browser summary and the IP network, never the full IP or user agent.
 */
export interface NewDeviceNoticePayload {
  kind: 'new-device-notice';
  to: string;
  locale?: string;
  /** "Firefox on Linux". */
  browser?: string;
  /** IPv4 /24 or IPv6 /48 of the client. */
  network?: string;
  happenedAt: string;
}

export type OutboxPayload = CodeMailPayload | NoticeMailPayload | NewDeviceNoticePayload;
