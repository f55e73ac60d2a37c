import { OtpConfigError } from '../core/otp.errors';
import type { OtpAlert, OtpAlertSink } from './otp-alert.types';

/** One windowed threshold: the rule fires when `threshold` is reached within `windowSeconds`. */
export interface OtpWindowRule {
  /** @default see each rule */
  threshold?: number;
  /** @default see each rule */
  windowSeconds?: number;
}

/** Monitoring settings (`OtpModuleOptions.monitoring`). */
export interface OtpMonitoringOptions {
  /**
   * Alert rules evaluated in the app over sliding windows. Each rule fires at most
   * once per subject (IP, recipient, or the whole app) per window.
   * @default all rules on, log sink on
   */
  alerts?: {
    /**
     * Turn every rule off.
     * @default true
     */
    enabled?: boolean;
    /**
     * One IP asking codes for many different addresses.
     * @default { threshold: 10, windowSeconds: 600 }
     */
    ipManyRecipients?: OtpWindowRule;
    /**
     * Failed verifications across the app.
     * @default { threshold: 50, windowSeconds: 300 }
     */
    verifyFailureSpike?: OtpWindowRule;
    /**
     * A recipient whose failure budget was spent (locked); threshold 1 means every lock alerts.
     * @default { threshold: 1, windowSeconds: 3600 }
     */
    budgetSpent?: OtpWindowRule;
    /**
     * Mail deliveries given up (`mail.abandoned`, `mail.failed`, `mail.bounced` events).
     * @default { threshold: 5, windowSeconds: 600 }
     */
    mailFailures?: OtpWindowRule;
    /**
     * Failed authentications on the operator routes (`operator.auth_failed`), across the app:
     * someone guessing the operator token, or a scraper with a stale one.
     * @default { threshold: 10, windowSeconds: 600 }
     */
    operatorAuthFailures?: OtpWindowRule;
    /**
     * Outbox rows waiting (threshold) or the oldest waiting longer than `maxAgeSeconds`,
     * checked every `checkIntervalSeconds`.
     * @default { threshold: 500, maxAgeSeconds: 600, checkIntervalSeconds: 60 }
     */
    outboxBacklog?: { threshold?: number; maxAgeSeconds?: number; checkIntervalSeconds?: number };
    /**
     * Write each alert as a JSON log line (`{"alert": "<rule>", ...}`) through the app logger.
     * @default true
     */
    logSink?: boolean;
    /**
     * POST each alert as JSON to this URL (http or https), 3 s timeout; failures are logged without the URL.
     * @default undefined
     */
    webhookUrl?: string;
    /**
     * Extra sinks (pager, chat, SIEM).
     * @default []
     */
    sinks?: OtpAlertSink[];
  };
  /**
   * Name of the mail outbox table read for the backlog gauges; a missing table reads as empty.
   * @default 'otp_mail_outbox'
   */
  outboxTable?: string;
  /**
   * How long `/health` reuses the outcome of its SMTP handshake (up or down), in
   * seconds; concurrent probes share one handshake. `/health` needs no credentials,
   * so without this every probe would open a TLS session to the relay. 0 checks on
   * every call.
   * @default 10
   */
  smtpCheckCacheSeconds?: number;
  /**
   * Clock of the alert windows and the health-check cache, in epoch milliseconds (tests inject one).
   * @default Date.now
   */
  clock?: () => number;
}

export interface ResolvedWindowRule {
  threshold: number;
  windowMs: number;
}

/** Monitoring options after defaults and checks. */
export interface ResolvedMonitoringOptions {
  alertsEnabled: boolean;
  ipManyRecipients: ResolvedWindowRule;
  verifyFailureSpike: ResolvedWindowRule;
  budgetSpent: ResolvedWindowRule;
  mailFailures: ResolvedWindowRule;
  operatorAuthFailures: ResolvedWindowRule;
  outboxBacklog: { threshold: number; maxAgeSeconds: number; checkIntervalMs: number };
  sinks: OtpAlertSink[];
  logSink: boolean;
  webhookUrl?: string;
  outboxTable: string;
  smtpCheckCacheMs: number;
  clock: () => number;
}

function rule(r: OtpWindowRule | undefined, threshold: number, windowSeconds: number): ResolvedWindowRule {
  return { threshold: Math.max(1, r?.threshold ?? threshold), windowMs: Math.max(1, r?.windowSeconds ?? windowSeconds) * 1000 };
}

/** Applies the monitoring defaults; refuses an outbox table that is not a plain name and an impossible health cache. */
export function resolveMonitoringOptions(o: OtpMonitoringOptions = {}): ResolvedMonitoringOptions {
  const a = o.alerts ?? {};
  const table = o.outboxTable ?? 'otp_mail_outbox';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(table)) throw new OtpConfigError('monitoring.outboxTable must be a plain lower-case table name');
  const smtpCache = o.smtpCheckCacheSeconds ?? 10;
  if (!Number.isInteger(smtpCache) || smtpCache < 0 || smtpCache > 3600) {
    throw new OtpConfigError('monitoring.smtpCheckCacheSeconds must be an integer from 0 to 3600');
  }
  return {
    alertsEnabled: a.enabled ?? true,
    ipManyRecipients: rule(a.ipManyRecipients, 10, 600),
    verifyFailureSpike: rule(a.verifyFailureSpike, 50, 300),
    budgetSpent: rule(a.budgetSpent, 1, 3600),
    mailFailures: rule(a.mailFailures, 5, 600),
    operatorAuthFailures: rule(a.operatorAuthFailures, 10, 600),
    outboxBacklog: {
      threshold: Math.max(1, a.outboxBacklog?.threshold ?? 500),
      maxAgeSeconds: Math.max(1, a.outboxBacklog?.maxAgeSeconds ?? 600),
      checkIntervalMs: Math.max(1, a.outboxBacklog?.checkIntervalSeconds ?? 60) * 1000,
    },
    sinks: a.sinks ?? [],
    logSink: a.logSink ?? true,
    webhookUrl: a.webhookUrl || undefined,
    outboxTable: table,
    smtpCheckCacheMs: smtpCache * 1000,
    clock: o.clock ?? Date.now,
  };
}

export type { OtpAlert, OtpAlertSink };
