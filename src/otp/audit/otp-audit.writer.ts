import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { untaggedChallengeId } from '../crypto/challenge-id';
import { OtpEvent } from '../events/otp-event';
import { OtpEventBus } from '../events/otp-event-bus';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import { refusedByServer } from '../core/database-unavailable';
import { ipNetwork } from '../net/ip-network';
import { commitLink, commitPersonal, encodeControl, newSalt, sanitizeDetail } from './audit-chain';
import { currentAuditContext } from '../request-context/audit-context';
import type { ResolvedAuditOptions } from './audit-options';
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
 * the database is unreachable. An append the server refused wrote nothing and is
 * tried again; one whose outcome is unknown (the connection ended, a FATAL error,
 * 40003: it may have committed) is looked for in the chain first (`OtpAuditStore.landed`,
 * after the last seq this writer appended), so a lost answer writes no row twice, unless the
 * server process commits after the look (a client that gave up on a process still waiting for
 * the head's lock; see docs/audit.md).
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
  /** The batch being appended, out of the queue (an overflow drops queued rows, never these), until it is written. */
  private inFlight: AuditRowInput[] | null = null;
  /** Whether the last append of `inFlight` may have written it (its outcome unknown). */
  private unsure = false;
  /** The seq of the last row this writer appended (or found appended): a lost batch can only be after it. */
  private lastSeq: string | null = null;
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
    return this.queue.length + (this.inFlight?.length ?? 0);
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
      const batch = (this.inFlight ??= this.queue.splice(0, this.options.batchSize));
      try {
        const found = this.unsure ? await this.store.landed(batch, this.lastSeq) : null;
        this.unsure = false;
        this.lastSeq = found ?? (await this.store.appendChained(batch)) ?? this.lastSeq;
      } catch (err) {
        if (!refusedByServer(err)) this.unsure = true;
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
    if (this.timer) return;
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    try {
      await this.flush();
    } catch {
      this.logger.error(`audit flush at shutdown failed: ${this.queue.length} event(s) not written`);
    }
  }
}
