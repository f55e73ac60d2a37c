import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, PoolClient, QueryResult } from 'pg';
import { DataSource } from 'typeorm';
import { OTP_RESOLVED_OPTIONS } from '../otp.module-definition';
import type { ResolvedOtpOptions } from '../otp-options.interface';

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
 * Runs the module's hot statements. On a PostgreSQL data source (the `pg` pool
 * TypeORM created) each goes out as a named prepared statement, `{ name, text,
 * values }`, so a connection parses and plans it once instead of on every call
 * (`DataSource.query` sends it unnamed). On other drivers, embedded PGlite
 * included, or with `preparedStatements: false`, it goes through `DataSource.query`
 * unnamed. Each call is one statement on whichever pooled connection is free,
 * exactly like `DataSource.query`: nothing here takes part in a caller's transaction.
 */
@Injectable()
export class OtpSql {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(OTP_RESOLVED_OPTIONS) private readonly options: Pick<ResolvedOtpOptions, 'preparedStatements'>,
  ) {}

  /**
   * The rows of one statement (also for a top-level `UPDATE ... RETURNING`).
   * `label` names it on the server; `text` must be a constant (one name per text).
   */
  async rows<T = Record<string, any>>(label: string, text: string, values: unknown[]): Promise<T[]> {
    const pool = this.pgPool();
    if (pool) return ((await pool.query({ name: statementName(label, text), text, values })) as QueryResult).rows as T[];
    return rowsOf<T>(await this.db.query(text, values));
  }

  /** The `pg` pool behind TypeORM's postgres driver; undefined for a custom driver (PGlite) or another database. */
  private pgPool(): Pool | undefined {
    const opts = this.db.options as { type: string; driver?: unknown };
    if (!this.options.preparedStatements || opts.type !== 'postgres' || opts.driver) return undefined;
    const pool = (this.db.driver as unknown as { master?: Pool }).master;
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

/** `DataSource.query` answers `[rows, rowCount]` for a top-level UPDATE or DELETE, plain rows otherwise. */
function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as T[];
  return result as T[];
}
