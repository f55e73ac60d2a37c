import { OutboxDelivery } from './otp-mail-outbox.store';

interface Waiting {
  delivery: OutboxDelivery;
  done: (recorded: boolean) => void;
}

/**
 * Group commit of deliveries. Outcomes that arrive while a write is running are written
 * together by the next one: one statement per batch instead of one per message, and a
 * message waits at most for the write in progress and its own. That wait is the
 * duplicate window (the relay said 250, the row does not say so yet), so nothing here
 * waits for a batch to fill up.
 */
export class OtpMailDeliveryRecorder {
  private readonly queue: Waiting[] = [];
  private writing?: Promise<void>;

  /**
   * @param write one statement recording a batch (`OtpMailOutboxStore.markDelivered`)
   * @param onError told of each failed write (a retry follows, up to `tries`)
   */
  constructor(
    private readonly write: (batch: OutboxDelivery[]) => Promise<unknown>,
    private readonly onError: (err: Error, size: number) => void,
    private readonly maxBatch = 500,
    private readonly tries = 3,
  ) {}

  /**
   * Resolves true once the delivery is recorded, false when every try failed: the row
   * then stays claimed and is sent again after its lease (at-least-once).
   */
  record(delivery: OutboxDelivery): Promise<boolean> {
    return new Promise((done) => {
      this.queue.push({ delivery, done });
      this.kick();
    });
  }

  /** Resolves once nothing is queued or being written. */
  async whenIdle(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private kick(): void {
    if (this.writing || this.queue.length === 0) return;
    this.writing = this.drain().finally(() => {
      this.writing = undefined;
      this.kick(); // a record() that came in after the last batch was taken
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      let recorded = false;
      for (let i = 0; i < this.tries && !recorded; i++) {
        try {
          await this.write(batch.map((w) => w.delivery));
          recorded = true;
        } catch (err) {
          this.onError(err as Error, batch.length);
        }
      }
      for (const w of batch) w.done(recorded);
    }
  }
}
