import { randomInt } from 'node:crypto';
import { OutboxDelivery } from './otp-mail-outbox.store';

interface Waiting {
  delivery: OutboxDelivery;
  since: number;
  /** Epoch ms after which this row's lease may have ended: no try starts later. */
  giveUpAt: number;
  done: (recorded: boolean) => void;
}

export interface DeliveryRecorderOptions {
  /** One statement recording a batch (`OtpMailOutboxStore.markDelivered`). */
  write: (batch: OutboxDelivery[]) => Promise<unknown>;
  /** Told of failed writes (the first of a run of failures, then every tenth). */
  onError: (err: Error, size: number) => void;
  /** Whether more deliveries may come soon (messages still with the transport). */
  moreComing: () => boolean;
  /** How long the oldest queued delivery may wait for others while more are coming. */
  delayMs: number;
  maxBatch?: number;
  /**
   * How long a failed write is retried (backoff from 50 ms, doubling, at most 2 s, with
   * jitter) before the deliveries are given up to the lease. A database restart takes
   * seconds; the lease is minutes: retrying meanwhile keeps those mails from going out twice.
   * @default 60_000
   */
  retryForMs?: number;
  /** True once the app shuts down: one more try, then the lease takes over. */
  stopping?: () => boolean;
  /** Waits between tries (tests inject one). */
  sleep?: (ms: number) => Promise<void>;
}

const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 2000;

/**
 * Group commit of deliveries. Outcomes that arrive while a write is running are written
 * together by the next one, and while other messages are still with the transport a
 * delivery waits up to `delayMs` for them: one statement per group instead of one per
 * message (a one-row UPDATE costs PostgreSQL about as much as a 25-row one). That wait
 * is part of the duplicate window (the relay said 250, the row does not say so yet),
 * so it is short, and nothing waits when no other message is on its way.
 */
export class OtpMailDeliveryRecorder {
  private readonly queue: Waiting[] = [];
  private writing?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private readonly maxBatch: number;

  constructor(private readonly o: DeliveryRecorderOptions) {
    this.maxBatch = o.maxBatch ?? 500;
  }

  /**
   * Resolves true once the delivery is recorded, false when the writes kept failing for
   * `retryForMs` or until `leaseEndsAt` (or the app stopped): the row then stays claimed
   * and is sent again after its lease (at-least-once).
   */
  record(delivery: OutboxDelivery, leaseEndsAt = Infinity): Promise<boolean> {
    return new Promise((done) => {
      this.queue.push({ delivery, since: Date.now(), giveUpAt: leaseEndsAt, done });
      this.kick();
    });
  }

  /** Writes what is queued now and resolves once nothing is queued or being written. */
  async whenIdle(): Promise<void> {
    while (this.writing || this.queue.length > 0) {
      if (!this.writing) this.start();
      await this.writing;
    }
  }

  private kick(): void {
    if (this.writing || this.queue.length === 0) return;
    const wait = this.o.delayMs - (Date.now() - this.queue[0].since);
    if (wait > 0 && this.queue.length < this.maxBatch && this.o.moreComing()) {
      if (!this.timer) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.start();
        }, wait);
      }
      return;
    }
    this.start();
  }

  private start(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.writing || this.queue.length === 0) return;
    this.writing = this.drain().finally(() => {
      this.writing = undefined;
      this.kick(); // what came in during the write
    });
  }

  private async drain(): Promise<void> {
    const batch = this.queue.splice(0, this.maxBatch);
    // Whichever comes first: the retry window, or the end of the earliest lease in the batch
    // (past it another dispatcher may send the row again, and a record then would be too late).
    const giveUpAt = Math.min(Date.now() + (this.o.retryForMs ?? 60_000), ...batch.map((w) => w.giveUpAt));
    const sleep = this.o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let recorded = false;
    for (let failed = 0, pause = FIRST_RETRY_MS; !recorded; failed++) {
      try {
        await this.o.write(batch.map((w) => w.delivery));
        recorded = true;
      } catch (err) {
        if (failed % 10 === 0) this.o.onError(err as Error, batch.length);
        if (this.o.stopping?.() || Date.now() >= giveUpAt) break;
        await sleep(Math.min(Math.floor((pause * randomInt(750, 1251)) / 1000), Math.max(0, giveUpAt - Date.now())));
        pause = Math.min(pause * 2, MAX_RETRY_MS);
      }
    }
    for (const w of batch) w.done(recorded);
  }
}
