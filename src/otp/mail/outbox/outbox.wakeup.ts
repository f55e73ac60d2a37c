import type { Logger } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import { pgPoolOf } from '../../persistence/otp-sql';

export const OUTBOX_CHANNEL = 'otp_mail_outbox';

/**
 * What wakes the dispatcher besides its own writes: LISTEN/NOTIFY on a dedicated pooled
 * connection (PostgreSQL only; PGlite, a custom driver, polls) and the poll timer.
 */
export class OutboxWakeup {
  private timer?: NodeJS.Timeout;
  private listener?: PoolClient;
  /** Listener clients already handed back: an error after that (e.g. the server ends the session) must not release twice. */
  private readonly releasedListeners = new WeakSet<PoolClient>();

  constructor(
    private readonly db: DataSource,
    private readonly pollIntervalMs: number,
    private readonly wake: () => void,
    private readonly logger: Logger,
  ) {}

  /** Calls `wake` once `pollIntervalMs` has passed (replacing any earlier poll). */
  schedulePoll(): void {
    this.cancelPoll();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, this.pollIntervalMs);
    this.timer.unref();
  }

  cancelPoll(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Tells the instances that LISTEN that mail was written (fire and forget; they poll anyway). */
  notifyOthers(): void {
    if (!pgPoolOf(this.db)) return; // PGlite: no other instance to tell
    this.db.query(`SELECT pg_notify($1, '')`, [OUTBOX_CHANNEL]).catch((err: Error) => {
      this.logger.warn(`outbox NOTIFY failed (${err.name}); other instances will poll`);
    });
  }

  async listen(): Promise<void> {
    const pool = pgPoolOf(this.db);
    if (!pool) return;
    try {
      const client = await pool.connect();
      client.on('notification', (n) => {
        if (n.channel === OUTBOX_CHANNEL) this.wake();
      });
      client.on('error', (err) => {
        this.logger.warn(`outbox LISTEN connection lost (${err.name}); polling every ${this.pollIntervalMs} ms`);
        if (this.listener === client) this.listener = undefined;
        this.releaseListener(client, err);
      });
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      this.listener = client;
    } catch (err) {
      this.logger.warn(`outbox LISTEN unavailable (${(err as Error).name}); polling only`);
    }
  }

  async unlisten(): Promise<void> {
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
