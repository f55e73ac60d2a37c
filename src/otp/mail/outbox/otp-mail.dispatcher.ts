import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { untaggedChallengeId } from '../../crypto/challenge-id';
import { OtpCipher } from '../../crypto/otp-cipher';
import { tryOpenJson } from '../../crypto/sealed-json';
import { OtpEventBus } from '../../events/otp-event-bus';
import { OTP_RESOLVED_OPTIONS } from '../../core/otp-options.tokens';
import type { ResolvedOtpMailOptions } from '../mail-options';
import { OtpSchemaState } from '../../persistence/otp-schema.state';
import { OtpMailer, OtpMailReceipt } from '../otp-mailer.port';
import { handOver, LEASE_MARGIN_MS, OtpMailTimeoutError, sendTimeoutMs, withTimeout } from './mail-lease.timing';
import { ClaimSpacing } from './claim-spacing';
import { MailOutcomes } from './mail-outcomes';
import { MailTransportSlots } from './mail-transport.slots';
import { OutboxPayload } from './otp-mail-outbox.payload';
import { OtpMailDeliveryRecorder } from './otp-mail-delivery.recorder';
import { OtpMailOutboxStore, OutboxRow } from './otp-mail-outbox.store';
import { outboxMessage } from './outbox-message.mapper';
import { OutboxWakeup } from './outbox.wakeup';

export { OUTBOX_CHANNEL } from './outbox.wakeup';

/**
 * Delivers the mail outbox. Woken in-process when a row is written, by
 * LISTEN/NOTIFY when a writer-only instance writes one (PostgreSQL only; PGlite
 * polls), and by a short poll otherwise; a wake-up within `claimIntervalMs` of the last
 * claim waits for the rest of it (`ClaimSpacing`). It keeps up to `maxInFlight` messages
 * in flight: as soon as `batchSize` slots are free it claims that many due rows
 * (`FOR UPDATE SKIP LOCKED` plus a lease) and hands each to the mail port, so
 * the next claim overlaps the sends of the previous one. Each outcome is
 * recorded on its row: delivered (with the relay's reply; deliveries that
 * finish together are recorded by one statement), retried with exponential
 * backoff and jitter, or abandoned at the deadline. The payload is wiped in the
 * statement that settles the row.
 *
 * At-least-once: the outcome is recorded after the relay accepted the message,
 * so a crash in between (or a failed record) re-sends after the lease, with the
 * same Message-ID. That window is about one UPDATE long; see the README.
 */
@Injectable()
export class OtpMailDispatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('OtpMailDispatcher');
  readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private running = false;
  /** The claim loop, while it runs. */
  private current?: Promise<void>;
  private again = false;
  /** Every message handed to the port and not yet settled on its row. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Messages still with the port (their slot is taken). */
  private sending = 0;
  private slotFreed?: () => void;
  /** Messages the port is sending now (at most its `concurrency`), and those waiting for one of its connections. */
  private readonly slots = new MailTransportSlots();
  private readonly recorder: OtpMailDeliveryRecorder;
  private readonly outcomes: MailOutcomes;
  private readonly wakeup: OutboxWakeup;
  private readonly spacing: ClaimSpacing;

  constructor(
    @Inject(OTP_RESOLVED_OPTIONS) private readonly options: { mail: ResolvedOtpMailOptions },
    private readonly store: OtpMailOutboxStore,
    private readonly mailer: OtpMailer,
    private readonly cipher: OtpCipher,
    events: OtpEventBus,
    @InjectDataSource() db: DataSource,
    private readonly schema: OtpSchemaState,
  ) {
    this.spacing = new ClaimSpacing(options.mail.claimIntervalMs);
    this.wakeup = new OutboxWakeup(db, options.mail.pollIntervalMs, () => this.wake(), this.logger);
    this.recorder = new OtpMailDeliveryRecorder({
      write: (batch) => this.store.markDelivered(batch),
      onError: (err, size) => this.logger.error(`recording the delivery of ${size} mail(s) failed: ${err.name}`),
      moreComing: () => this.sending > 0,
      delayMs: options.mail.recordDelayMs,
      // At most half the lease: a row whose record is still being retried is never released meanwhile.
      retryForMs: options.mail.recordRetryMs,
      stopping: () => !this.running,
    });
    this.outcomes = new MailOutcomes(store, this.recorder, events, options.mail.retry, this.logger);
  }

  async onApplicationBootstrap(): Promise<void> {
    // Behind on migrations: not started (the start-up check said so once), rather than failing every poll.
    if (!this.options.mail.dispatcher || !this.schema.ready) return;
    this.running = true;
    await this.wakeup.listen();
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.running = false;
    this.slotFreed?.(); // the claim loop, if it waits for a slot, stops now
    this.spacing.cancel(); // and a claim held back by the spacing goes now, to find it stopped
    this.wakeup.cancelPoll();
    await this.whenIdle();
    await this.wakeup.unlisten();
  }

  /** Starts claiming now (or again right after the current claim loop). Safe to call any time. */
  wake(): void {
    if (!this.running) return;
    if (this.current) {
      this.again = true;
      return;
    }
    this.wakeup.cancelPoll();
    const spaced = this.spacing.wait();
    this.current = (spaced ? spaced.then(() => this.drain()) : this.drain()).finally(() => {
      this.current = undefined;
      this.schedule();
    });
  }

  /**
   * Mail was just written to the outbox by this instance. With a dispatcher here, wake it;
   * without one (`MAIL_DISPATCHER=false`), NOTIFY the instances that have one. Only then:
   * a NOTIFY takes a database-wide lock at commit, which serialised every issue when a
   * trigger sent one per insert (seen under `npm run bench:profile` as Lock:object waits).
   */
  mailWritten(): void {
    if (this.running) return this.wake();
    this.wakeup.notifyOthers();
  }

  /** Resolves once nothing is being claimed, sent or recorded (tests and shutdown). */
  async whenIdle(): Promise<void> {
    for (;;) {
      if (this.current) await this.current;
      else if (this.inFlight.size > 0) await Promise.all(this.inFlight);
      else return this.recorder.whenIdle();
    }
  }

  /** One batch: claim, send, record, all settled on return. Returns how many rows it handled. Public for tests. */
  async round(): Promise<number> {
    const n = await this.claimAndSend(this.options.mail.batchSize);
    await this.whenIdle();
    return n;
  }

  /**
   * Claims while rows come back full: each claim waits only until a batch's worth of slots
   * is free, not for the previous batch to settle. A wake-up meanwhile (`again`) starts the
   * next drain, through the spacing.
   */
  private async drain(): Promise<void> {
    const { batchSize, maxInFlight } = this.options.mail;
    const claim = Math.min(batchSize, maxInFlight);
    this.again = false;
    for (;;) {
      while (this.running && this.sending > maxInFlight - claim) await new Promise<void>((r) => (this.slotFreed = r));
      if (!this.running) return;
      if ((await this.claimAndSend(claim)) < claim) return;
    }
  }

  /** Claims up to `limit` rows and starts their delivery; returns how many rows it claimed or abandoned. */
  private async claimAndSend(limit: number): Promise<number> {
    let rows: OutboxRow[];
    let claimedAt = Date.now();
    this.spacing.started();
    try {
      claimedAt = Date.now(); // before the statement: the lease surely ends after claimedAt + leaseSeconds
      rows = await this.store.claimDue(this.workerId, limit, this.options.mail.leaseSeconds);
    } catch (err) {
      this.logger.error(`claiming mail failed: ${(err as Error).name}`);
      return 0;
    }
    for (const row of rows) {
      if (row.action === 'abandoned') {
        this.outcomes.claimAbandoned(row);
        continue;
      }
      this.sending++;
      const leaseEndsAt = claimedAt + this.options.mail.leaseSeconds * 1000 - LEASE_MARGIN_MS;
      const work = this.deliver(row, claimedAt, leaseEndsAt, () => {
        this.sending--;
        this.slotFreed?.();
        this.slotFreed = undefined;
      }).finally(() => this.inFlight.delete(work));
      this.inFlight.add(work);
    }
    return rows.length;
  }

  private schedule(): void {
    if (!this.running) return;
    if (this.again) return this.wake();
    this.wakeup.schedulePoll();
  }

  /** Sends one claimed row and records the outcome; `sent` is called once the port is done with it. */
  private async deliver(row: OutboxRow, claimedAt: number, leaseEndsAt: number, sent: () => void): Promise<void> {
    const payload = tryOpenJson<OutboxPayload>(this.cipher, row.payloadCiphertext ?? '', row.id);
    if (!payload) {
      sent();
      // Sealed under a key this instance lacks (a rotation rolling out) or tampered with:
      // leave it to an instance that has the key, and to the deadline.
      return this.outcomes.retry(row, 'undecryptable');
    }
    const stale = await handOver(this.slots, this.mailer.concurrency, row, { claimedAt, leaseEndsAt }, (id) => this.store.challengeEnded(id));
    if (stale) {
      sent();
      return this.outcomes.stale(row, stale);
    }
    const started = Date.now();
    let receipt: OtpMailReceipt | void;
    try {
      receipt = await this.sendWithinLease(row, payload, leaseEndsAt);
    } catch (err) {
      sent();
      return this.outcomes.failed(row, err);
    }
    sent();
    await this.outcomes.delivered(row, receipt, leaseEndsAt, Date.now() - started);
  }

  /** Hands the message to the port and waits for its answer, at most until the lease ends; its slot is freed on the answer. */
  private async sendWithinLease(row: OutboxRow, payload: OutboxPayload, leaseEndsAt: number): Promise<OtpMailReceipt | void> {
    let sending: Promise<OtpMailReceipt | void>;
    try {
      const message = outboxMessage(row, payload);
      sending = 'notice' in message ? this.mailer.sendNotice(message.notice) : this.mailer.send(message.code);
    } catch (err) {
      this.slots.free();
      throw err;
    }
    void sending.then(() => this.slots.free(), () => this.slots.free());
    try {
      return await withTimeout(sending, Math.min(sendTimeoutMs(this.options.mail.leaseSeconds), leaseEndsAt - Date.now()));
    } catch (err) {
      if (!(err instanceof OtpMailTimeoutError)) throw err;
      // Slow, not failed: the relay may still accept the message, so releasing the row for a
      // retry now would send it twice. Keep the claim (and the slot: a slow relay slows the
      // claims) and wait for the port's own answer until the lease ends; past it another
      // dispatcher takes the row (at-least-once).
      this.logger.warn(`mail ${row.id} (challenge ${row.challengeId && untaggedChallengeId(row.challengeId)}) is still with the transport; kept until its lease ends`);
      return await withTimeout(sending, Math.max(0, leaseEndsAt - Date.now()));
    }
  }
}
