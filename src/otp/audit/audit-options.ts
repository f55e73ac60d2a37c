import { Logger } from '@nestjs/common';
import { OtpConfigError } from '../core/otp.errors';
import { OPERATOR_TOKEN_HINT, operatorTokenProblem } from '../operator/operator-token';

/** Default of `retention.auditSeconds`: how long audit rows are kept. */
export const DEFAULT_AUDIT_RETENTION_SECONDS = 400 * 86_400;

/** Default of `retention.ipTruncateSeconds`: how long a client IP is kept whole in audit rows. */
export const DEFAULT_IP_TRUNCATE_SECONDS = 30 * 86_400;

/** Audit trail settings (`OtpModuleOptions.audit`). */
export interface OtpAuditOptions {
  /**
   * Write security events to the `otp_audit_log` chain.
   * @default true
   */
  enabled?: boolean;
  /**
   * Events are queued and appended in batches off the request path; a batch is
   * written when it reaches `batchSize` or after this many milliseconds.
   * Pending events are always flushed when the application closes.
   * @default 100
   */
  flushIntervalMs?: number;
  /**
   * Largest batch appended in one statement.
   * @default 200
   */
  batchSize?: number;
  /**
   * Events kept in memory while the database is unreachable; beyond it the oldest
   * are dropped and counted (`otp_audit_dropped_total`).
   * @default 10000
   */
  maxQueue?: number;
  /**
   * Bearer token of the operator routes (`/admin/otp/audit...`), compared in
   * constant time. Unset: the routes answer 404.
   * @default undefined
   */
  adminToken?: string;
}

/** Audit options after defaults and checks. */
export interface ResolvedAuditOptions {
  enabled: boolean;
  flushIntervalMs: number;
  batchSize: number;
  maxQueue: number;
  adminToken?: string;
}

/** Applies the audit defaults; a weak operator token is refused in production (a warning elsewhere). */
export function resolveAuditOptions(o: OtpAuditOptions = {}, production = false, logger: Pick<Logger, 'warn'> = new Logger('OtpModule')): ResolvedAuditOptions {
  checkOperatorToken(o.adminToken, production, logger);
  return {
    enabled: o.enabled ?? true,
    flushIntervalMs: Math.max(1, o.flushIntervalMs ?? 100),
    batchSize: Math.min(Math.max(1, o.batchSize ?? 200), 1000),
    maxQueue: Math.max(1, o.maxQueue ?? 10_000),
    adminToken: o.adminToken && o.adminToken.length > 0 ? o.adminToken : undefined,
  };
}

/** The operator token guards the audit trail and metrics: weak ones are refused in production (a warning in development). */
function checkOperatorToken(token: string | undefined, production: boolean, logger: Pick<Logger, 'warn'>): void {
  const problem = token ? operatorTokenProblem(token) : undefined;
  if (!problem) return;
  if (production) throw new OtpConfigError(`audit.adminToken (OTP_ADMIN_TOKEN) ${problem} in production; ${OPERATOR_TOKEN_HINT}`);
  logger.warn(`audit.adminToken ${problem}: it would be refused in production; ${OPERATOR_TOKEN_HINT}`);
}
