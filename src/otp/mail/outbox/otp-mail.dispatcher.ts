import { randomInt, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { OtpCipher } from '../../crypto/otp-cipher';
import { openJson } from '../../crypto/sealed-json';
import { OtpEventBus } from '../../events/otp-event-bus';
import { OTP_RESOLVED_OPTIONS } from '../../otp.module-definition';
import { ResolvedOtpOptions } from '../../otp-options.interface';
import { OtpMailer, OtpMailReceipt } from '../otp-mailer.port';
import { classifyMailError } from './mail-error.classifier';
import { OutboxPayload } from './otp-mail-outbox.payload';
import { OtpMailDeliveryRecorder } from './otp-mail-delivery.recorder';
import { OtpMailOutboxStore, OutboxRow } from './otp-mail-outbox.store';
import { OtpSchemaState } from '../../persistence/otp-schema.state';
import { pgPoolOf } from '../../persistence/otp-sql';

export const OUTBOX_CHANNEL = 'otp_mail_outbox';

/** A record is not tried this close to the end of its row's lease (clocks, statement time). */
const LEASE_MARGIN_MS = 5_000;

/** Less lease than this left when a connection is free: the row is released rather than sent. */
const MIN_SEND_MS = 10_000;
/** A code row that waited longer than this for a connection has its challenge looked up again. */
const RECHECK_AFTER_MS = 1_000;

type StaleReason = 'deadline' | 'lease_short' | 'challenge_ended';

class OtpMailTimeoutError extends Error {
  override name = 'OtpMailTimeoutError';
}

/**
 * Delivers the mail outbox. Woken in-process when a row is written, by
 * LISTEN/NOTIFY when a writer-only instance writes one (PostgreSQL only; PGlite
 * polls), and by a short poll otherwise. It keeps up to `maxInFlight` messages
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
  private timer?: NodeJS.Timeout;
  /** The claim loop, while it runs. */
  private current?: Promise<void>;
  private again = false;
  /** Every message handed to the port and not yet settled on its row. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Messages still with the port (their slot is taken). */
  private sending = 0;
  private slotFreed?: () => void;
  /** Messages the port is sending now (at most its `concurrency`), and those waiting for one of its connections. */
  private withTransport = 0;
  private readonly transportQueue: (() => void)[] = [];
  private readonly recorder: OtpMailDeliveryRecorder;
  private listener?: PoolClient;
  /** Listener clients already handed back: an error after that (e.g. the server ends the session) must not release twice. */
  private readonly releasedListeners = new WeakSet<PoolClient>();

  constructor(
    @Inject(OTP_RESOLVED_OPTIONS) private readonly options: ResolvedOtpOptions,
    private readonly store: OtpMailOutboxStore,
    private readonly mailer: OtpMailer,
    private readonly cipher: OtpCipher,
    private readonly events: OtpEventBus,
    @InjectDataSource() private readonly db: DataSource,
    private readonly schema: OtpSchemaState,
  ) {
    this.recorder = new OtpMailDeliveryRecorder({
      write: (batch) => this.store.markDelivered(batch),
      onError: (err, size) => this.logger.error(`recording the delivery of ${size} mail(s) failed: ${err.name}`),
      moreComing: () => this.sending > 0,
      delayMs: options.mail.recordDelayMs,
      // At most half the lease: a row whose record is still being retried is never released meanwhile.
      retryForMs: options.mail.recordRetryMs,
      stopping: () => !this.running,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    // Behind on migrations: not started (the start-up check said so once), rather than failing every poll.
    if (!this.options.mail.dispatcher || !this.schema.ready) return;
    this.running = true;
    await this.listen();
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.running = false;
    this.slotFreed?.(); // the claim loop, if it waits for a slot, stops now
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.whenIdle();
    await this.unlisten();
  }

  /** Starts claiming now (or again right after the current claim loop). Safe to call any time. */
  wake(): void {
    if (!this.running) return;
    if (this.current) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.current = this.drain().finally(() => {
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
    if (!pgPoolOf(this.db)) return; // PGlite: no other instance to tell
    this.db.query(`SELECT pg_notify($1, '')`, [OUTBOX_CHANNEL]).catch((err: Error) => {
      this.logger.warn(`outbox NOTIFY failed (${err.name}); other instances will poll`);
    });
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
   * is free, not for the previous batch to settle.
   */
  private async drain(): Promise<void> {
    const { batchSize, maxInFlight } = this.options.mail;
    const claim = Math.min(batchSize, maxInFlight);
    do {
      this.again = false;
      for (;;) {
        while (this.running && this.sending > maxInFlight - claim) await new Promise<void>((r) => (this.slotFreed = r));
        if (!this.running) return;
        if ((await this.claimAndSend(claim)) < claim) break;
      }
    } while (this.again && this.running);
  }

  /** Claims up to `limit` rows and starts their delivery; returns how many rows it claimed or abandoned. */
  private async claimAndSend(limit: number): Promise<number> {
    let rows: OutboxRow[];
    let claimedAt = Date.now();
    try {
      claimedAt = Date.now(); // before the statement: the lease surely ends after claimedAt + leaseSeconds
      rows = await this.store.claimDue(this.workerId, limit, this.options.mail.leaseSeconds);
    } catch (err) {
      this.logger.error(`claiming mail failed: ${(err as Error).name}`);
      return 0;
    }
    for (const row of rows) {
      if (row.action === 'abandoned') {
        this.emit('mail.abandoned', row, row.lastError ?? 'abandoned');
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
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, this.options.mail.pollIntervalMs);
    this.timer.unref();
  }

  /** Sends one claimed row and records the outcome; `sent` is called once the port is done with it. */
  private async deliver(row: OutboxRow, claimedAt: number, leaseEndsAt: number, sent: () => void): Promise<void> {
    let payload: OutboxPayload;
    try {
      payload = openJson<OutboxPayload>(this.cipher, row.payloadCiphertext ?? '', row.id);
    } catch {
      sent();
      // Sealed under a key this instance lacks (a rotation rolling out) or tampered with:
      // leave it to an instance that has the key, and to the deadline.
      await this.retry(row, 'undecryptable');
      return;
    }
    await this.takeTransport();
    let handedOver = false;
    let receipt: OtpMailReceipt | void;
    const started = Date.now();
    try {
      // Checked again now that a connection is free: the row may have waited behind a slow relay.
      const stale = await this.staleAtHandOver(row, claimedAt, leaseEndsAt);
      if (stale) {
        this.freeTransport();
        sent();
        await this.release(row, stale);
        return;
      }
      const sending = this.send(row, payload);
      handedOver = true;
      void sending.then(() => this.freeTransport(), () => this.freeTransport());
      try {
        receipt = await this.withTimeout(sending, Math.min(this.sendTimeoutMs(), leaseEndsAt - Date.now()));
      } catch (err) {
        if (!(err instanceof OtpMailTimeoutError)) throw err;
        // Slow, not failed: the relay may still accept the message, so releasing the row for a
        // retry now would send it twice. Keep the claim (and the slot: a slow relay slows the
        // claims) and wait for the port's own answer until the lease ends; past it another
        // dispatcher takes the row (at-least-once).
        this.logger.warn(`mail ${row.id} (challenge ${row.challengeId}) is still with the transport; kept until its lease ends`);
        receipt = await this.withTimeout(sending, Math.max(0, leaseEndsAt - Date.now()));
      }
    } catch (err) {
      if (!handedOver) this.freeTransport();
      sent();
      if (err instanceof OtpMailTimeoutError) return; // the lease releases it
      const { errorClass, permanent } = classifyMailError(err);
      this.logger.warn(`mail ${row.id} (challenge ${row.challengeId}, attempt ${row.attempts}) failed: ${errorClass}`);
      if (permanent) {
        await this.settle(row, () => this.store.markAbandoned(row.id, errorClass), 'mail.abandoned', errorClass);
        return;
      }
      await this.retry(row, errorClass);
      return;
    }
    sent();
    // Accepted by the relay: record it (with the deliveries that finish meanwhile; retried while the database is away).
    const latencyMs = Date.now() - started;
    if (await this.recorder.record({ id: row.id, messageId: receipt?.messageId ?? null, response: receipt?.response ?? null }, leaseEndsAt)) {
      this.emit('mail.delivered', row, undefined, latencyMs);
    }
  }

  /** Half the lease: a send that takes longer is waited for, but never retried, until the lease ends. */
  private sendTimeoutMs(): number {
    return (this.options.mail.leaseSeconds * 1000) / 2;
  }

  /** Waits for one of the port's connections (FIFO); never more than `mailer.concurrency` messages with it. */
  private takeTransport(): Promise<void> {
    const limit = this.mailer.concurrency; // a host's port may be a plain object without it
    if (!(typeof limit === 'number' && limit >= 1) || this.withTransport < limit) {
      this.withTransport++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.transportQueue.push(resolve));
  }

  private freeTransport(): void {
    const next = this.transportQueue.shift();
    if (next) next(); // the slot passes straight to the next message
    else this.withTransport--;
  }

  /**
   * Why a claimed row must not go to the relay now that a connection is free: its deadline
   * passed, too little of its lease is left for a send, or (after a wait in the queue) its
   * challenge ended. Undefined when it may go.
   */
  private async staleAtHandOver(row: OutboxRow, claimedAt: number, leaseEndsAt: number): Promise<StaleReason | undefined> {
    const now = Date.now();
    if (row.deadlineAt.getTime() <= now) return 'deadline';
    if (leaseEndsAt - now < MIN_SEND_MS) return 'lease_short';
    if (row.kind === 'code' && row.challengeId && now - claimedAt > RECHECK_AFTER_MS) {
      try {
        if (await this.store.challengeEnded(row.challengeId)) return 'challenge_ended';
      } catch {
        // The database is away: the claim-time check stands.
      }
    }
    return undefined;
  }

  /** A row that went stale while it waited for a connection: abandoned, or released for another dispatcher. */
  private async release(row: OutboxRow, reason: StaleReason): Promise<void> {
    if (reason === 'lease_short') {
      this.logger.warn(`mail ${row.id} waited for a connection until its lease nearly ended; released`);
      return this.retry(row, 'timeout', 0);
    }
    await this.settle(row, () => this.store.markAbandoned(row.id, reason), 'mail.abandoned', reason);
  }

  private async retry(row: OutboxRow, errorClass: string, delayMs = this.backoffMs(row.attempts)): Promise<void> {
    try {
      const status = await this.store.scheduleRetry(row.id, errorClass, delayMs);
      if (status) this.emit(status === 'abandoned' ? 'mail.abandoned' : 'mail.retried', row, errorClass);
    } catch (err) {
      this.logger.error(`recording a retry failed: ${(err as Error).name}; the lease will release mail ${row.id}`);
    }
  }

  private send(row: OutboxRow, p: OutboxPayload): Promise<OtpMailReceipt | void> {
    if (p.kind === 'new-device-notice') {
      return this.mailer.sendNotice({
        kind: 'new-device-notice', to: p.to, locale: p.locale, browser: p.browser, network: p.network,
        happenedAt: new Date(p.happenedAt), messageId: row.id,
      });
    }
    // Code and budget-notice rows always name their challenge (otp_mail_outbox_challenge_ck).
    const challengeId = row.challengeId!;
    if (p.kind === 'budget-notice') {
      return this.mailer.sendNotice({
        kind: 'budget-notice', challengeId, to: p.to, locale: p.locale, ip: p.ip, userAgent: p.userAgent,
        happenedAt: new Date(p.happenedAt), lockSeconds: p.lockSeconds, messageId: row.id,
      });
    }
    return this.mailer.send({
      challengeId, to: p.to, code: p.code, purpose: p.purpose, locale: p.locale, context: p.context,
      expiresAt: row.deadlineAt, requestedAt: new Date(p.requestedAt), ip: p.ip, userAgent: p.userAgent, messageId: row.id,
    });
  }

  /** `base * 2^(attempt-1)`, capped, times a uniform factor in [0.5, 1.5). */
  backoffMs(attempt: number): number {
    const { baseMs, maxMs } = this.options.mail.retry;
    const raw = Math.min(maxMs, baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
    // floor, not round: the factor is in [0.5, 1.5), and rounding could reach 1.5 x raw.
    return Math.floor(raw * (0.5 + randomInt(0, 1_000_000) / 1_000_000));
  }

  private async settle(row: OutboxRow, write: () => Promise<boolean>, event: 'mail.abandoned', errorClass: string): Promise<void> {
    try {
      if (await write()) this.emit(event, row, errorClass);
    } catch (err) {
      this.logger.error(`settling mail ${row.id} failed: ${(err as Error).name}`);
    }
  }

  /** `latencyMs`: how long the relay took to accept the message (the metrics' delivery latency). */
  private emit(name: 'mail.delivered' | 'mail.retried' | 'mail.abandoned', row: OutboxRow, errorClass?: string, latencyMs?: number): void {
    this.events.emit({
      name,
      outcome: name === 'mail.delivered' ? 'success' : 'failure',
      challengeId: row.challengeId ?? undefined,
      purpose: row.purpose,
      recipientIndex: row.recipientIndex,
      detail: { kind: row.kind, attempts: row.attempts, errorClass: errorClass ?? null, ...(latencyMs === undefined ? {} : { latencyMs }) },
    });
  }

  private withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new OtpMailTimeoutError('mail port did not answer in time')), ms);
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  /** LISTEN on a dedicated pooled connection; PGlite (a custom driver) polls instead. */
  private async listen(): Promise<void> {
    const pool = pgPoolOf(this.db);
    if (!pool) return;
    try {
      const client = await pool.connect();
      client.on('notification', (n) => {
        if (n.channel === OUTBOX_CHANNEL) this.wake();
      });
      client.on('error', (err) => {
        this.logger.warn(`outbox LISTEN connection lost (${err.name}); polling every ${this.options.mail.pollIntervalMs} ms`);
        if (this.listener === client) this.listener = undefined;
        this.releaseListener(client, err);
      });
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      this.listener = client;
    } catch (err) {
      this.logger.warn(`outbox LISTEN unavailable (${(err as Error).name}); polling only`);
    }
  }

  private async unlisten(): Promise<void> {
    const client = this.listener;
    this.listener = undefined;
    if (!client) return;
    try {
      await client.query(`UNLISTEN ${OUTBOX_CHANNEL}`);
      this.releaseListener(client);
    } catch (err) {
      this.releaseListener(client, err as Error);
    }
  }

  private releaseListener(client: PoolClient, err?: Error): void {
    if (this.releasedListeners.has(client)) return;
    this.releasedListeners.add(client);
    client.release(err);
  }
}
