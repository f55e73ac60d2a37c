import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, PoolClient, QueryResult } from 'pg';
import { DataSource, QueryRunner } from 'typeorm';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';

const guarded = new WeakSet<Pool>();
const heard = new WeakSet<PoolClient>();
const ignore = (): void => undefined;

/** Server-side names by statement text: `otp_<label>_<8 hex of the text's SHA-256>`. */
const names = new Map<string, string>();

/** An edited text gets a new name, so it never meets a connection's plan of the old one. */
export function statementName(label: string, text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `otp_${label}_${createHash('sha256').update(text).digest('hex').slice(0, 8)}`;
    names.set(text, name);
  }
  return name;
}

/**
 * The `pg` pool behind TypeORM's postgres driver; undefined for a custom driver (embedded
 * PGlite, which has one connection and no LISTEN/NOTIFY) or another database.
 */
export function pgPoolOf(db: DataSource): Pool | undefined {
  const opts = db.options as { type: string; driver?: unknown };
  if (opts.type !== 'postgres' || opts.driver) return undefined;
  return (db.driver as unknown as { master?: Pool }).master;
}

/** Runs statements: the pool (`OtpSql`) or one transaction's connection (`OtpSql.transaction`). */
export interface OtpSqlRunner {
  rows<T = Record<string, any>>(label: string, text: string, values?: unknown[], mode?: OtpSqlMode): Promise<T[]>;
  count(label: string, text: string, values?: unknown[], mode?: OtpSqlMode): Promise<number>;
}

/** What one statement gave: its rows (`RETURNING` included) and the rows it changed or returned. */
export interface OtpSqlResult<T> {
  rows: T[];
  count: number;
}

/**
 * `prepared`: a named prepared statement where possible (hot statements with a stable plan);
 * `unprepared`: sent unnamed through TypeORM, planned for its values on every call (statements
 * whose best plan depends on them, such as a claim over a backlog, and rare maintenance).
 */
export type OtpSqlMode = 'prepared' | 'unprepared';

/**
 * Runs every statement of the module's stores. On a PostgreSQL data source (the `pg`
 * pool TypeORM created) each goes out as a named prepared statement, `{ name, text,
 * values }`, so a connection parses and plans it once instead of on every call
 * (`DataSource.query` sends it unnamed). On other drivers, embedded PGlite included
 * (whose driver serialises the queries), or with `preparedStatements: false`, it goes
 * through a TypeORM query runner, unnamed. Either way the answer has the same shape:
 * rows and row count, for a SELECT, an UPDATE or a DELETE alike. Each call is one
 * statement on whichever pooled connection is free: nothing here takes part in a
 * caller's transaction.
 */
@Injectable()
export class OtpSql implements OtpSqlRunner {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(OTP_RESOLVED_OPTIONS) private readonly options: { preparedStatements: boolean },
  ) {}

  /**
   * The rows of one statement (also for a top-level `UPDATE ... RETURNING`).
   * `label` names it on the server; `text` must be a constant (one name per text).
   */
  async rows<T = Record<string, any>>(label: string, text: string, values: unknown[] = [], mode: OtpSqlMode = 'prepared'): Promise<T[]> {
    return (await this.run<T>(label, text, values, mode)).rows;
  }

  /** How many rows one statement changed (UPDATE, DELETE, INSERT) or returned. */
  async count(label: string, text: string, values: unknown[] = [], mode: OtpSqlMode = 'prepared'): Promise<number> {
    return (await this.run(label, text, values, mode)).count;
  }

  /**
   * Runs `work` in one transaction (committed when it resolves, rolled back when it throws);
   * the runner it gets sends every statement unnamed on that transaction's connection.
   */
  async transaction<T>(work: (tx: OtpSqlRunner) => Promise<T>): Promise<T> {
    return this.db.transaction(async (m) => {
      const runner = m.queryRunner!;
      return work({
        rows: async <R>(_label: string, text: string, values: unknown[] = []) => (await structured<R>(runner, text, values)).rows,
        count: async (_label: string, text: string, values: unknown[] = []) => (await structured(runner, text, values)).count,
      });
    });
  }

  private async run<T>(label: string, text: string, values: unknown[], mode: OtpSqlMode): Promise<OtpSqlResult<T>> {
    const pool = mode === 'prepared' ? this.preparedPool() : undefined;
    if (pool) {
      const result = (await pool.query({ name: statementName(label, text), text, values })) as QueryResult;
      return { rows: result.rows as T[], count: result.rowCount ?? result.rows.length };
    }
    const runner = this.db.createQueryRunner();
    try {
      return await structured<T>(runner, text, values);
    } finally {
      await runner.release();
    }
  }

  /** The pool to prepare statements on, or undefined (see the class). */
  private preparedPool(): Pool | undefined {
    if (!this.options.preparedStatements) return undefined;
    const pool = pgPoolOf(this.db);
    if (pool && !guarded.has(pool)) {
      guarded.add(pool);
      // A backend ended by the server (restart, pg_terminate_backend) tells its client with an
      // 'error' event, also after the client is back in the pool or being removed from it; with
      // no listener then, Node ends the process. The query that was running fails by itself, and
      // the pool drops the client: the event needs no handling beyond being heard.
      const hear = (client: PoolClient) => {
        if (heard.has(client)) return;
        heard.add(client);
        client.on('error', ignore);
      };
      pool.on('connect', hear); // new clients
      pool.on('acquire', hear); // and those made before this pool was first used here
    }
    return pool;
  }
}

/** One statement through a TypeORM query runner, as rows and row count. */
async function structured<T>(runner: QueryRunner, text: string, values: unknown[]): Promise<OtpSqlResult<T>> {
  const result = (await runner.query(text, values, true)) as { records?: T[]; affected?: number };
  const rows = result.records ?? [];
  return { rows, count: result.affected ?? rows.length };
}
