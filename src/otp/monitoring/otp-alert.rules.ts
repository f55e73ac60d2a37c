import type { OtpEvent } from '../events/otp-event';
import type { OtpAlert, OtpAlertRule } from './otp-alert.types';
import type { ResolvedMonitoringOptions, ResolvedWindowRule } from './monitoring-options';

const MAX_SUBJECTS = 10_000;
/** `rate_limit_store_full`: the first refusal raises it, then at most once per 10 minutes. */
const STORE_FULL_RULE: ResolvedWindowRule = { threshold: 1, windowMs: 600_000 };
/**
 * Entries kept per subject: counts saturate here, which bounds the work per event
 * (an attacker flooding one IP or the failure counter must not make each event
 * cost more). Thresholds above it never fire.
 */
export const MAX_PER_SUBJECT = 5_000;

/** Timestamps per subject within a sliding window (bounded: oldest subjects go first). */
class SlidingWindow {
  private readonly hits = new Map<string, number[]>();

  constructor(private readonly windowMs: number) {}

  add(subject: string, now: number): number {
    const kept = this.hits.get(subject) ?? [];
    // Oldest first: only the expired head is dropped, so an event costs O(expired), not O(entries).
    let expired = 0;
    while (expired < kept.length && kept[expired] <= now - this.windowMs) expired++;
    kept.push(now);
    const drop = Math.max(expired, kept.length - MAX_PER_SUBJECT);
    if (drop > 0) kept.splice(0, drop);
    this.hits.delete(subject);
    this.hits.set(subject, kept);
    if (this.hits.size > MAX_SUBJECTS) this.hits.delete(this.hits.keys().next().value as string);
    return kept.length;
  }
}

/** Distinct values per subject within a sliding window (e.g. recipients per IP). */
class DistinctWindow {
  private readonly seen = new Map<string, Map<string, number>>();

  constructor(private readonly windowMs: number) {}

  add(subject: string, value: string, now: number): number {
    const values = this.seen.get(subject) ?? new Map<string, number>();
    values.delete(value); // re-insert: the map stays in order of last sight, oldest first
    values.set(value, now);
    if (values.size > MAX_PER_SUBJECT) values.delete(values.keys().next().value as string);
    // Oldest first: stop at the first value still inside the window (O(expired) per event, not O(values)).
    for (const [v, t] of values) {
      if (t > now - this.windowMs) break;
      values.delete(v);
    }
    this.seen.delete(subject);
    this.seen.set(subject, values);
    if (this.seen.size > MAX_SUBJECTS) this.seen.delete(this.seen.keys().next().value as string);
    return values.size;
  }
}

/**
 * The built-in alert rules over sliding windows. Pure: events and the clock come
 * in, alerts go out through `raise`. Each rule fires once per subject per window.
 */
export class OtpAlertRules {
  private readonly ipRecipients: DistinctWindow;
  private readonly failures: SlidingWindow;
  private readonly locks: SlidingWindow;
  private readonly mailFailures: SlidingWindow;
  private readonly operatorAuthFailures: SlidingWindow;
  private readonly lastFired = new Map<string, number>();

  constructor(
    private readonly o: ResolvedMonitoringOptions,
    private readonly raise: (alert: OtpAlert) => void,
  ) {
    this.ipRecipients = new DistinctWindow(o.ipManyRecipients.windowMs);
    this.failures = new SlidingWindow(o.verifyFailureSpike.windowMs);
    this.locks = new SlidingWindow(o.budgetSpent.windowMs);
    this.mailFailures = new SlidingWindow(o.mailFailures.windowMs);
    this.operatorAuthFailures = new SlidingWindow(o.operatorAuthFailures.windowMs);
  }

  onEvent(e: OtpEvent): void {
    const now = this.o.clock();
    if (e.name === 'challenge.issued' && e.ip && e.recipientIndex) {
      const n = this.ipRecipients.add(e.ip, e.recipientIndex, now);
      this.check('ip_many_recipients', e.ip, n, this.o.ipManyRecipients, now, 'warning',
        `IP ${e.ip} asked codes for ${n} different addresses`, { ip: e.ip });
    } else if (e.name === 'verify.failed') {
      const n = this.failures.add('*', now);
      this.check('verify_failure_spike', '*', n, this.o.verifyFailureSpike, now, 'critical', `${n} failed verifications`);
    } else if (e.name === 'budget.spent' && e.recipientIndex) {
      const n = this.locks.add(e.recipientIndex, now);
      this.check('budget_spent', e.recipientIndex, n, this.o.budgetSpent, now, 'warning',
        'a recipient spent its failure budget (verification locked)', { recipientIndex: e.recipientIndex, ip: e.ip });
    } else if (e.name === 'rate_limit.near' && e.detail?.throttler === 'global-send') {
      this.onGlobalSendNear(e.detail, now);
    } else if (e.name === 'rate_limit.store_full') {
      // Requests needing a new counter are being refused (fail closed): once per window of 10 minutes.
      this.check('rate_limit_store_full', '*', 1, STORE_FULL_RULE, now, 'critical',
        `the in-memory rate-limit store is full (${String(e.detail?.maxKeys)} counters): new clients get 503`);
    } else if (/^mail\.(abandoned|failed|bounced)$/.test(e.name)) {
      const n = this.mailFailures.add('*', now);
      this.check('mail_failures', '*', n, this.o.mailFailures, now, 'critical', `${n} mail deliveries failed`);
    } else if (e.name === 'operator.auth_failed') {
      const n = this.operatorAuthFailures.add('*', now);
      this.check('operator_auth_failures', '*', n, this.o.operatorAuthFailures, now, 'critical',
        `${n} failed operator authentications`, e.ip ? { ip: e.ip } : {});
    }
  }

  /**
   * The global send budget's shared counter reached its mark (80 %) within its window:
   * soon every address is refused until the window ends. Once per window.
   */
  private onGlobalSendNear(d: NonNullable<OtpEvent['detail']>, now: number): void {
    const hits = Number(d.hits);
    const threshold = Number(d.threshold);
    const windowSeconds = Number(d.windowSeconds);
    if (![hits, threshold, windowSeconds].every((v) => Number.isFinite(v) && v > 0)) return;
    this.check('global_send_near', '*', hits, { threshold, windowMs: windowSeconds * 1000 }, now, 'critical',
      `${hits} of ${String(d.limit)} mails of the global send budget spent within ${windowSeconds} s`);
  }

  /** Outbox state, read periodically. */
  onOutbox(backlog: number, oldestAgeSeconds: number): void {
    const r = this.o.outboxBacklog;
    const now = this.o.clock();
    const over = backlog >= r.threshold || (backlog > 0 && oldestAgeSeconds >= r.maxAgeSeconds);
    if (!over) return;
    this.check('outbox_backlog', '*', backlog >= r.threshold ? backlog : r.threshold, { threshold: r.threshold, windowMs: r.checkIntervalMs }, now,
      'critical', `${backlog} mail(s) waiting, oldest ${Math.round(oldestAgeSeconds)} s`);
  }

  private check(
    rule: OtpAlertRule, subject: string, count: number, r: ResolvedWindowRule, now: number,
    severity: OtpAlert['severity'], summary: string, extra: Partial<OtpAlert> = {},
  ): void {
    if (count < r.threshold) return;
    const key = `${rule}\u0000${subject}`;
    const last = this.lastFired.get(key);
    if (last !== undefined && now - last < r.windowMs) return;
    this.lastFired.set(key, now);
    if (this.lastFired.size > MAX_SUBJECTS) this.lastFired.delete(this.lastFired.keys().next().value as string);
    this.raise({
      alert: rule, severity, at: new Date(now).toISOString(), summary, count, threshold: r.threshold,
      windowSeconds: Math.round(r.windowMs / 1000), ...extra,
    });
  }
}
