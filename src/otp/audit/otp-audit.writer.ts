import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { untaggedChallengeId } from '../crypto/challenge-id';
import { OtpEvent } from '../events/otp-event';
import { OtpEventBus } from '../events/otp-event-bus';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import { ipNetwork } from '../net/ip-network';
import { commitLink, commitPersonal, encodeControl, newSalt, sanitizeDetail } from './audit-chain';
import { currentAuditContext } from '../request-context/audit-context';
import type { ResolvedAuditOptions } from './audit-options';
import { newBatchId } from './otp-audit.sql';
import { AuditRowInput, OtpAuditStore } from './otp-audit.store';
import { owaspNameOf } from './owasp-vocabulary';

/**
 * Turns an event (enriched with the request context) into a row; never copies secrets. The
 * challenge id is kept at rest (`untaggedChallengeId`: its recipient tag zeroed), before the
 * chained body is made of it: an erased row cannot be found again from the address (R30).
 */
export function auditRowOf(event: OtpEvent): AuditRowInput {
  const ctx = currentAuditContext();
  const text = (v: string | undefined, max: number) => (v === undefined || v === '' ? null : encodeControl(v, max));
  const recipientIndex = text(event.recipientIndex, 128);
  const ip = text(event.ip ?? ctx?.ip, 64);
  const userAgent = text(event.userAgent ?? ctx?.userAgent, 256);
  const piiSalt = recipientIndex || ip || userAgent ? newSalt() : null;
  const linkSalt = piiSalt ? newSalt() : null;
  const network = ip ? ipNetwork(ip) ?? null : null;
  return {
    at: event.at,
    event: encodeControl(event.name, 64),
    owasp: owaspNameOf(event),
    outcome: event.outcome,
    challengeId: text(event.challengeId && untaggedChallengeId(event.challengeId), 64),
    purpose: text(event.purpose, 64),
    requestId: text(event.requestId ?? ctx?.requestId, 64),
    detail: sanitizeDetail(event.detail),
    recipientIndex,
    ip,
    userAgent,
    piiSalt,
    subjectCommitment: piiSalt ? commitPersonal({ recipientIndex, ip, userAgent }, piiSalt) : null,
    version: 2,
    linkSalt,
    ipNetwork: network,
    linkCommitment: linkSalt ? commitLink({ recipientIndex, userAgent, ipNetwork: network }, linkSalt) : null,
  };
}

/**
 * Subscribes to the event bus and appends every event to the audit chain, in
 * batches off the request path. One flush runs at a time per process; pending
 * rows are flushed before the application shuts down, and kept (bounded) while
 * the database is unreachable. A batch gets a random id once (`newBatchId`) and keeps it on every
 * try, and the append records the id with the rows: a try of a batch that is in the chain already
 * (a lost answer, or a server process that committed after its client gave up) writes nothing, so
 * a retry never writes a row twice, whatever became of the earlier try (`OtpAuditStore.appendBatch`).
 */
@Injectable()
export class OtpAuditWriter implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('OtpAudit');
  private readonly options: ResolvedAuditOptions;
  private queue: AuditRowInput[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private unsubscribe?: () => void;
  private failuresInRow = 0;
  /** Set at shutdown: the database connection closes next, so a failed flush is not retried. */
  private closed = false;
  /** The batch being appended, out of the queue (an overflow drops queued rows, never these), until it is written. */
  private inFlight: { rows: AuditRowInput[]; id: string } | null = null;
  /** Rows dropped because the queue was full (database unreachable for long). */
  dropped = 0;
  /** Failed append attempts. */
  failures = 0;

  constructor(
    private readonly store: OtpAuditStore,
    private readonly bus: OtpEventBus,
    @Inject(OTP_RESOLVED_OPTIONS) resolved: { audit: ResolvedAuditOptions },
  ) {
    this.options = resolved.audit;
  }

  onModuleInit(): void {
    if (this.options.enabled) this.unsubscribe = this.bus.subscribe((e) => this.record(e));
  }

  /** Queues one event (already a row: the request context is read now, synchronously). */
  record(event: OtpEvent): void {
    this.queue.push(auditRowOf(event));
    if (this.pending > this.options.maxQueue) {
      const over = Math.min(this.pending - this.options.maxQueue, this.queue.length);
      this.queue.splice(0, over);
      this.dropped += over;
      this.logger.error(`audit queue full: ${over} event(s) dropped`);
    }
    if (this.queue.length >= this.options.batchSize) void this.flush().catch(() => undefined);
    else this.schedule();
  }

  get pending(): number {
    return this.queue.length + (this.inFlight?.rows.length ?? 0);
  }

  /** Writes everything queued so far; resolves once it is in the database. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending === 0) return;
    this.flushing = this.drain().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.pending > 0) {
      const batch = (this.inFlight ??= { rows: this.queue.splice(0, this.options.batchSize), id: newBatchId() });
      try {
        await this.store.appendBatch(batch.rows, batch.id);
      } catch (err) {
        throw this.failed(err);
      }
      this.inFlight = null;
      this.failuresInRow = 0;
    }
  }

  /** Counts and logs a failed attempt (rate-limited), schedules the retry; returns the error to throw. */
  private failed(err: unknown): unknown {
    this.failures++;
    this.failuresInRow++;
    if (this.failuresInRow <= 3 || this.failuresInRow % 20 === 0) {
      this.logger.error(`audit append failed (${this.pending} event(s) kept for retry): ${(err as Error).message}`);
    }
    this.schedule();
    return err;
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    // While the database fails, retry with exponential back-off (capped at 30 s).
    const delay = Math.min(this.options.flushIntervalMs * 2 ** this.failuresInRow, 30_000);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush().catch(() => undefined);
    }, delay);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /** Runs before the database connection closes (TypeORM closes it in onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      await this.flush();
    } catch {
      this.logger.error(`audit flush at shutdown failed: ${this.pending} event(s) not written`);
    }
  }
}
