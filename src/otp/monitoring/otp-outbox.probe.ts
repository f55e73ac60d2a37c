import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import type { ResolvedMonitoringOptions } from './monitoring-options';

export interface OutboxState {
  backlog: number;
  oldestAgeSeconds: number;
}

const DONE_STATUSES = `('sent','delivered','abandoned','failed','done','cancelled')`;

/**
 * Reads the mail outbox (owned by the mail part of the module) defensively: the
 * table and its columns are discovered, and a missing table reads as empty.
 * Waiting = not sent / delivered / abandoned by whichever of those columns exist.
 */
@Injectable()
export class OtpOutboxProbe {
  private readonly table: string;
  private sql: string | null = null;

  constructor(@InjectDataSource() private readonly db: DataSource, @Inject(OTP_RESOLVED_OPTIONS) options: { monitoring: ResolvedMonitoringOptions }) {
    this.table = options.monitoring.outboxTable;
  }

  async read(): Promise<OutboxState> {
    if (!this.sql) this.sql = await this.buildQuery();
    if (!this.sql) return { backlog: 0, oldestAgeSeconds: 0 };
    try {
      const [row] = await this.db.query(this.sql);
      return { backlog: Number(row.backlog), oldestAgeSeconds: Math.max(0, Number(row.age ?? 0)) };
    } catch {
      this.sql = null; // the table changed (migration); rediscover next time
      return { backlog: 0, oldestAgeSeconds: 0 };
    }
  }

  private async buildQuery(): Promise<string | null> {
    const cols: { column_name: string }[] = await this.db.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`,
      [this.table],
    );
    if (cols.length === 0) return null;
    const has = (c: string) => cols.some((x) => x.column_name === c);
    const waiting = [
      ...['sent_at', 'delivered_at', 'abandoned_at', 'failed_at'].filter(has).map((c) => `${c} IS NULL`),
      ...(has('status') ? [`status::text NOT IN ${DONE_STATUSES}`] : []),
    ];
    const since = ['created_at', 'enqueued_at', 'queued_at'].find(has);
    const age = since ? `extract(epoch FROM now() - min(${since}))` : '0';
    return `SELECT count(*)::int AS backlog, ${age} AS age FROM "${this.table}" ${waiting.length ? 'WHERE ' + waiting.join(' AND ') : ''}`;
  }
}
