import type { Logger } from '@nestjs/common';
import { untaggedChallengeId } from '../../crypto/challenge-id';
import type { OtpEventBus } from '../../events/otp-event-bus';
import type { OtpMailReceipt } from '../otp-mailer.port';
import { classifyMailError } from './mail-error.classifier';
import { OtpMailTimeoutError, StaleReason } from './mail-lease.timing';
import { mailBackoffMs } from './mail-retry.policy';
import type { OtpMailDeliveryRecorder } from './otp-mail-delivery.recorder';
import type { OtpMailOutboxStore, OutboxRow } from './otp-mail-outbox.store';
import type { ResolvedOtpMailOptions } from '../mail-options';

type MailEvent = 'mail.delivered' | 'mail.retried' | 'mail.abandoned';

/**
 * Records each claimed row's outcome on the row and announces it as an event: delivered
 * (batched by the delivery recorder), retried after the backoff, abandoned, or left to
 * its lease. A failed record is logged, never thrown: the lease releases the row.
 */
export class MailOutcomes {
  constructor(
    private readonly store: Pick<OtpMailOutboxStore, 'scheduleRetry' | 'markAbandoned'>,
    private readonly recorder: OtpMailDeliveryRecorder,
    private readonly events: OtpEventBus,
    private readonly retryPolicy: ResolvedOtpMailOptions['retry'],
    private readonly logger: Logger,
  ) {}

  /** Accepted by the relay: recorded with the deliveries that finish meanwhile (retried while the database is away). */
  async delivered(row: OutboxRow, receipt: OtpMailReceipt | void, leaseEndsAt: number, latencyMs: number): Promise<void> {
    if (await this.recorder.record({ id: row.id, messageId: receipt?.messageId ?? null, response: receipt?.response ?? null }, leaseEndsAt)) {
      this.emit('mail.delivered', row, undefined, latencyMs);
    }
  }

  /** The port failed (or never answered within the lease): abandoned when permanent, retried otherwise. */
  async failed(row: OutboxRow, err: unknown): Promise<void> {
    if (err instanceof OtpMailTimeoutError) return; // the lease releases it
    const { errorClass, permanent } = classifyMailError(err);
    this.logger.warn(`mail ${row.id} (challenge ${row.challengeId && untaggedChallengeId(row.challengeId)}, attempt ${row.attempts}) failed: ${errorClass}`);
    if (permanent) return this.abandon(row, errorClass);
    return this.retry(row, errorClass);
  }

  /** A row that went stale while it waited for a connection: abandoned, or released for another dispatcher. */
  async stale(row: OutboxRow, reason: StaleReason): Promise<void> {
    if (reason === 'lease_short') {
      this.logger.warn(`mail ${row.id} waited for a connection until its lease nearly ended; released`);
      return this.retry(row, 'timeout', 0);
    }
    await this.abandon(row, reason);
  }

  async retry(row: OutboxRow, errorClass: string, delayMs = mailBackoffMs(row.attempts, this.retryPolicy)): Promise<void> {
    try {
      const status = await this.store.scheduleRetry(row.id, errorClass, delayMs);
      if (status) this.emit(status === 'abandoned' ? 'mail.abandoned' : 'mail.retried', row, errorClass);
    } catch (err) {
      this.logger.error(`recording a retry failed: ${(err as Error).name}; the lease will release mail ${row.id}`);
    }
  }

  /** Announces a row the claim itself abandoned (its deadline passed). */
  claimAbandoned(row: OutboxRow): void {
    this.emit('mail.abandoned', row, row.lastError ?? 'abandoned');
  }

  private async abandon(row: OutboxRow, errorClass: string): Promise<void> {
    try {
      if (await this.store.markAbandoned(row.id, errorClass)) this.emit('mail.abandoned', row, errorClass);
    } catch (err) {
      this.logger.error(`settling mail ${row.id} failed: ${(err as Error).name}`);
    }
  }

  /** `latencyMs`: how long the relay took to accept the message (the metrics' delivery latency). */
  private emit(name: MailEvent, row: OutboxRow, errorClass?: string, latencyMs?: number): void {
    this.events.emit({
      name,
      outcome: name === 'mail.delivered' ? 'success' : 'failure',
      challengeId: row.challengeId ?? undefined,
      purpose: row.purpose,
      recipientIndex: row.recipientIndex,
      detail: { kind: row.kind, attempts: row.attempts, errorClass: errorClass ?? null, ...(latencyMs === undefined ? {} : { latencyMs }) },
    });
  }
}
