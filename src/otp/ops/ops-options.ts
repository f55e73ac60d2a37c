import { DEFAULT_AUDIT_RETENTION_SECONDS, DEFAULT_IP_TRUNCATE_SECONDS } from '../audit/audit-options';

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

/** Applies the retention defaults (a missing, zero, negative or non-finite period takes its default). */
export function resolveRetentionOptions(o: OtpRetentionOptions = {}): ResolvedRetentionOptions {
  const pos = (v: number | undefined, d: number) => (v !== undefined && Number.isFinite(v) && v > 0 ? v : d);
  return {
    enabled: o.enabled ?? true,
    intervalMs: pos(o.intervalSeconds, 3600) * 1000,
    challengeSeconds: pos(o.challengeSeconds, 86_400),
    spentRowSeconds: pos(o.spentRowSeconds, 7 * 86_400),
    auditSeconds: pos(o.auditSeconds, DEFAULT_AUDIT_RETENTION_SECONDS),
    ipTruncateSeconds: pos(o.ipTruncateSeconds, DEFAULT_IP_TRUNCATE_SECONDS),
  };
}
