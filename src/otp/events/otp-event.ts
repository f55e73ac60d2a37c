/**
 * Names of the security events the module emits. Where the OWASP logging
 * vocabulary has a name, the audit trail records it beside ours.
 */
export type OtpEventName =
  | 'challenge.issued'
  | 'challenge.resent'
  | 'verify.succeeded'
  | 'verify.failed'
  | 'challenge.exhausted'
  | 'budget.spent'
  | 'mail.delivered'
  | 'mail.retried'
  | 'mail.abandoned'
  | 'notice.queued'
  | 'sign_in.recorded'
  | 'operator.auth_failed';

/** One security event. Never carries a code, a key, a token or an address. */
export interface OtpEvent {
  name: OtpEventName | (string & {});
  outcome: 'success' | 'failure';
  /**
   * The challenge, as the client has it (a UUIDv8 carries its recipient's tag). The audit trail
   * keeps it at rest, tag zeroed; a listener that stores or logs it keeps `untaggedChallengeId(challengeId)`.
   */
  challengeId?: string;
  purpose?: string;
  /** Keyed blind index of the recipient (pseudonymous subject). */
  recipientIndex?: string;
  ip?: string;
  userAgent?: string;
  requestId?: string;
  /** Small, non-secret facts, e.g. `{ attempt: 3, maxAttempts: 5 }`. */
  detail?: Record<string, string | number | boolean | null>;
  at: Date;
}

/** A request refused by a rate limit: a throttler hit, or a resend inside its cooldown. */
export function isThrottleEvent(event: Pick<OtpEvent, 'name' | 'detail'>): boolean {
  const reason = event.detail?.reason;
  return event.name === 'rate_limit.exceeded' || /(^|\.)throttled$/.test(event.name) || reason === 'cooldown' || reason === 'throttled';
}
