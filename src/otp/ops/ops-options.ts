import { DEFAULT_AUDIT_RETENTION_SECONDS, DEFAULT_IP_TRUNCATE_SECONDS } from '../audit/audit-options';
import { OtpConfigError } from '../core/otp.errors';

/** Retention settings (`OtpModuleOptions.retention`); periods count from when a row ended. */
export interface OtpRetentionOptions {
  /**
   * Run the purge on a schedule (needs `ScheduleModule.forRoot()` in the host).
   * @default true
   */
  enabled?: boolean;
  /**
   * How often the purge runs.
   * @default 3600
   */
  intervalSeconds?: number;
  /**
   * Challenges are deleted this long after they were consumed, superseded or expired.
   * @default 86400 (1 day)
   */
  challengeSeconds?: number;
  /**
   * Rows of other OTP tables (tokens, sent outbox mail, ...) are deleted this long after
   * their end column (`consumed_at`, `redeemed_at`, `revoked_at`, `sent_at`,
   * `delivered_at`, `abandoned_at`, `expires_at`: the earliest set).
   * @default 604800 (7 days)
   */
  spentRowSeconds?: number;
  /**
   * Audit events are deleted after this long; the last deleted hash stays as the chain's anchor.
   * @default 34560000 (400 days)
   */
  auditSeconds?: number;
  /**
   * The security window of client IPs (R38): once an audit event is older than this, its
   * IP is cut to its network (IPv4 /24, IPv6 /48) and no longer bound by the row's salted
   * commitment (the chain still verifies). Encrypted delivery data of challenges and
   * pending outbox rows that old (which hold the requesting IP) are wiped at the same time.
   * @default 2592000 (30 days)
   */
  ipTruncateSeconds?: number;
}

/** Retention options after defaults. */
export interface ResolvedRetentionOptions {
  enabled: boolean;
  intervalMs: number;
  challengeSeconds: number;
  spentRowSeconds: number;
  auditSeconds: number;
  ipTruncateSeconds: number;
}

/**
 * Applies the retention defaults. A period that is set must be a positive, finite number of
 * seconds: zero or a negative period would purge rows the moment they end (or never), so it is
 * refused at start-up rather than silently replaced.
 */
export function resolveRetentionOptions(o: OtpRetentionOptions = {}): ResolvedRetentionOptions {
  const period = (name: keyof OtpRetentionOptions, fallback: number): number => {
    const v = o[name];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new OtpConfigError(`retention.${name} must be a positive number of seconds (got ${String(v)})`);
    }
    return v;
  };
  return {
    enabled: o.enabled ?? true,
    intervalMs: period('intervalSeconds', 3600) * 1000,
    challengeSeconds: period('challengeSeconds', 86_400),
    spentRowSeconds: period('spentRowSeconds', 7 * 86_400),
    auditSeconds: period('auditSeconds', DEFAULT_AUDIT_RETENTION_SECONDS),
    ipTruncateSeconds: period('ipTruncateSeconds', DEFAULT_IP_TRUNCATE_SECONDS),
  };
}
