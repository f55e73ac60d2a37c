import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, Optional } from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';
import { encodeControl } from '../audit/audit-chain';
import { OtpAuditStore } from '../audit/otp-audit.store';
import { OtpEventBus } from '../events/otp-event-bus';
import { OtpMailOutboxStore } from '../mail/outbox/otp-mail-outbox.store';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import { OtpKnownDeviceStore } from '../sign-in/otp-known-device.store';
import type { ResolvedSignInNoticeOptions } from '../sign-in/sign-in-options';
import type { ResolvedFailureBudget } from '../challenges/challenge-options';
import { OtpChallengeStore } from '../persistence/otp-challenge.store';
import { OtpFailureBudgetStore } from '../persistence/otp-failure-budget.store';
import { OTP_TABLES } from '../persistence/otp-tables';
import type { ResolvedRetentionOptions } from './ops-options';
import { OtpOpsStore } from './otp-ops.store';

/** Columns that say a row of an extension's `otp_*` table has ended (the earliest one set counts). */
export const END_COLUMNS = ['consumed_at', 'redeemed_at', 'revoked_at', 'superseded_at', 'sent_at', 'delivered_at', 'abandoned_at',
  'finished_at', 'last_queued_at', 'expires_at'];
const JOB = 'otp-retention-purge';

/** `@nestjs/schedule` is an optional peer: without it the purge is not scheduled (a start-up warning says so). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
const SCHEDULER_REGISTRY: Function | string = (() => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('@nestjs/schedule') as typeof import('@nestjs/schedule')).SchedulerRegistry;
  } catch {
    return 'OTP_NO_SCHEDULER_REGISTRY';
  }
})();

export type PurgeReport = Record<string, number>;

/** A purge in which some steps failed: what the others did (`report`) and the failed steps' names. */
export class OtpRetentionPurgeError extends Error {
  constructor(readonly report: PurgeReport, readonly failed: string[]) {
    super(`retention purge failed for ${failed.join(', ')} (the other steps ran)`);
    this.name = 'OtpRetentionPurgeError';
  }
}

/**
 * Retention (R8, R42): deletes what no longer serves a purpose, on a schedule.
 * Challenges, budgets and known sign-in devices (unseen for
 * `signInNotices.rememberDeviceSeconds`) by their own rules; the module's other tables by
 * the end columns `OTP_TABLES` names, an extension's `otp_*` tables by theirs (`END_COLUMNS`);
 * the audit trail by its own longer
 * period through `otp_audit_purge_before`, which keeps the anchor. Past the IP
 * window (R38) the audit trail keeps IP networks only, and the encrypted delivery
 * data that holds the requesting IP is wiped.
 */
@Injectable()
export class OtpRetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('OtpRetention');
  readonly options: ResolvedRetentionOptions;
  private readonly rememberDeviceSeconds: number;
  private running: Promise<PurgeReport> | null = null;

  constructor(
    private readonly ops: OtpOpsStore,
    private readonly challenges: OtpChallengeStore,
    private readonly budgets: OtpFailureBudgetStore,
    private readonly audit: OtpAuditStore,
    private readonly outbox: OtpMailOutboxStore,
    private readonly devices: OtpKnownDeviceStore,
    private readonly bus: OtpEventBus,
    @Inject(OTP_RESOLVED_OPTIONS) private readonly otp: {
      retention: ResolvedRetentionOptions;
      signInNotices: Pick<ResolvedSignInNoticeOptions, 'rememberDeviceSeconds'>;
      failureBudget: Pick<ResolvedFailureBudget, 'windowSeconds'>;
    },
    @Optional() @Inject(SCHEDULER_REGISTRY) private readonly scheduler?: SchedulerRegistry,
  ) {
    this.options = otp.retention;
    this.rememberDeviceSeconds = otp.signInNotices.rememberDeviceSeconds;
  }

  onApplicationBootstrap(): void {
    if (!this.options.enabled) return;
    if (!this.scheduler) {
      this.logger.warn('retention purge not scheduled: import ScheduleModule.forRoot() (package @nestjs/schedule) in the host, or run purge() yourself');
      return;
    }
    const timer = setInterval(() => void this.purge().catch(() => undefined), this.options.intervalMs);
    timer.unref();
    this.scheduler.addInterval(JOB, timer);
  }

  onModuleDestroy(): void {
    if (this.scheduler?.doesExist('interval', JOB)) this.scheduler.deleteInterval(JOB);
  }

  /** Runs one purge now (one at a time per process); returns rows deleted per table (`*_ips_truncated`, `*_wiped`, `*_abandoned`: rows changed). */
  async purge(): Promise<PurgeReport> {
    if (this.running) return this.running;
    this.running = this.purgeOnce().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /**
   * Every step runs, whichever fails (a table the role cannot touch, a lock timeout): one must not keep the others,
   * IP truncation (R38) and the audit purge among them, from their work. A failed step is logged; the purge then
   * fails naming the steps, after the others ran and the event recorded what they did.
   */
  private async purgeOnce(): Promise<PurgeReport> {
    const report: PurgeReport = {};
    const failed: string[] = [];
    const fail = (name: string, err: unknown) => {
      // An extension's table name is whatever its owner chose: encoded before it meets a log line (R39).
      failed.push(encodeControl(name, 64));
      this.logger.error(`retention purge of ${failed[failed.length - 1]} failed: ${err instanceof Error ? err.message : String(err)}`);
    };
    const step = async (name: string, work: () => Promise<number>): Promise<void> => {
      try {
        report[name] = await work();
      } catch (err) {
        fail(name, err);
      }
    };
    const o = this.options;
    const before = (seconds: number) => new Date(Date.now() - seconds * 1000);
    await step('otp_challenges', () => this.challenges.purgeEnded(o.challengeSeconds));
    await step('otp_failure_budgets', () => this.budgets.purgeLapsed(this.otp.failureBudget.windowSeconds));
    await step('otp_sign_in_devices', () => this.devices.purgeUnseenFor(this.rememberDeviceSeconds));
    for (const [table, ends] of await this.endedRowTables(fail)) await step(table, () => this.ops.purgeEndedRows(table, ends, o.spentRowSeconds));
    await step('otp_audit_log', () => this.audit.purgeBefore(before(o.auditSeconds)));
    await step('otp_audit_log_ips_truncated', () => this.audit.truncateIpsBefore(before(o.ipTruncateSeconds)));
    await step('otp_challenges_deliveries_wiped', () => this.challenges.wipeOldDeliveries(o.ipTruncateSeconds));
    await step('otp_mail_outbox_abandoned', () => this.outbox.abandonPendingOlderThan(o.ipTruncateSeconds));
    await step('otp_audit_batch', () => this.audit.purgeBatchIds(o.spentRowSeconds));
    // The failure first: the audit detail keeps the first 16 fields.
    const detail = failed.length ? { failedSteps: failed.length, failed: failed.join(', '), ...report } : report;
    this.bus.emit({ name: 'retention.purged', outcome: failed.length ? 'failure' : 'success', detail });
    if (failed.length) throw new OtpRetentionPurgeError(report, failed);
    return report;
  }

  /**
   * Tables purged by their end columns, by name: the module's that `OTP_TABLES` gives them, and an extension's
   * (when they cannot be listed, `fail` hears it and the module's are purged all the same).
   */
  private async endedRowTables(fail: (name: string, err: unknown) => void): Promise<[string, readonly string[]][]> {
    const tables = new Map<string, readonly string[]>();
    for (const t of OTP_TABLES) if (typeof t.retention === 'object') tables.set(t.name, t.retention.ended);
    try {
      for (const t of await this.ops.extensionTables()) {
        const ends = END_COLUMNS.filter((c) => t.columns.includes(c));
        if (ends.length > 0) tables.set(t.name, ends);
      }
    } catch (err) {
      fail('otp_* extension tables', err);
    }
    return [...tables].sort(([a], [b]) => a.localeCompare(b));
  }

}
