import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { ALL_MIGRATIONS } from '../../src/app/database/migrations';
import { BenchKeys, newBenchKeys, registerDatabaseKeys } from './bench-env';
import { cpuMs } from './child';

/** The benchmark's database: a fresh `otp_bench_*` one, or `DATABASE_URL` when its name says it may be used. */
export interface BenchDatabase {
  url: string;
  name: string;
  pool: Pool;
  created: boolean;
  close(): Promise<void>;
}

const ADMIN_URL = process.env.BENCH_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * `fresh`: always create a new `otp_bench_*` database (the scale part's second one);
 * `bare`: without our tables and keys (the peer's own database).
 */
export async function openBenchDatabase(opts: { fresh?: boolean; bare?: boolean } = {}): Promise<BenchDatabase> {
  let url = opts.fresh ? undefined : process.env.DATABASE_URL;
  let created = false;
  let name: string;
  if (url) {
    name = new URL(url).pathname.slice(1);
    // The benchmark truncates tables and writes a million rows: refuse a database not named for it.
    if (!/bench|test/i.test(name)) throw new Error(`DATABASE_URL names "${name}": the benchmark only uses a database whose name contains "bench" or "test"`);
  } else {
    name = `otp_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
    const adminUrl = process.env.DATABASE_URL ? withDatabase(process.env.DATABASE_URL, 'postgres') : ADMIN_URL;
    const admin = new Pool({ connectionString: adminUrl, max: 1 });
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    url = withDatabase(adminUrl, name);
    created = true;
  }
  // The example app's tables too: the peer comparison signs in through POST /accounts/sessions.
  if (!opts.bare) await migrate(url);
  const pool = new Pool({ connectionString: url, max: 2 });
  // An idle connection killed from outside (another session's pg_terminate_backend) must not end the run.
  pool.on('error', () => undefined);
  if (!opts.bare) registerDatabaseKeys(url, await databaseKeys(pool));
  return {
    url,
    name,
    pool,
    created,
    async close() {
      await pool.end();
      if (!created) return;
      const admin = new Pool({ connectionString: withDatabase(url!, 'postgres'), max: 1 });
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

async function migrate(url: string): Promise<void> {
  const ds = new DataSource({ type: 'postgres', url, migrations: ALL_MIGRATIONS });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  await ds.destroy();
}

/**
 * The keys of this database's app: made once and kept in the database, so a second run on the
 * same `DATABASE_URL` boots with the same OTP_INDEX_KEY (the app refuses a different one on a
 * database that has challenges: its index-key fingerprint). Throwaway keys of a bench database.
 */
async function databaseKeys(pool: Pool): Promise<BenchKeys> {
  await pool.query(`CREATE TABLE IF NOT EXISTS bench_run_keys (name text PRIMARY KEY, value text NOT NULL)`);
  const fresh = newBenchKeys();
  for (const [name, value] of Object.entries(fresh)) {
    await pool.query(`INSERT INTO bench_run_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [name, value]);
  }
  const { rows } = await pool.query(`SELECT name, value FROM bench_run_keys`);
  return Object.fromEntries(rows.map((r: { name: string; value: string }) => [r.name, r.value])) as unknown as BenchKeys;
}

/** Inserts n live challenges with no OTP meaning (for the limit/ceiling verify routes); returns their ids. */
export async function insertBareLiveChallenges(pool: Pool, n: number): Promise<string[]> {
  const { rows } = await pool.query(
    `INSERT INTO otp_challenges (id, recipient_index, purpose, code_digests, max_attempts, expires_at, resend_available_at)
     SELECT gen_random_uuid(), 'bare-' || md5(random()::text || g), 'login', ARRAY['k1:' || md5(g::text)], 5,
       now() + interval '600 seconds', now()
     FROM generate_series(1, $1) AS g
     RETURNING id`,
    [n],
  );
  return rows.map((r: { id: string }) => r.id);
}

/** Adds n finished (consumed or expired) challenges, the bulk of a real table. Fast: one generate_series. */
export async function insertFinishedChallenges(pool: Pool, n: number): Promise<void> {
  if (n <= 0) return;
  await pool.query(
    `INSERT INTO otp_challenges (id, recipient_index, purpose, code_digests, attempts, max_attempts, created_at,
       expires_at, resend_available_at, consumed_at)
     SELECT gen_random_uuid(), 'old-' || md5(random()::text || g), 'login', ARRAY['k1:' || md5(g::text)], 1, 5,
       now() - interval '1 day', now() - interval '1 day' + interval '600 seconds', now() - interval '1 day',
       CASE WHEN g % 3 = 0 THEN NULL ELSE now() - interval '1 day' + interval '30 seconds' END
     FROM generate_series(1, $1) AS g`,
    [n],
  );
}

export async function countChallenges(pool: Pool): Promise<number> {
  const { rows } = await pool.query(`SELECT count(*)::int AS n FROM otp_challenges`);
  return rows[0].n;
}

/** Empties the OTP tables between phases (and tables that reference them, such as a mail outbox). */
export async function truncateOtpTables(pool: Pool): Promise<void> {
  await pool.query(`TRUNCATE otp_challenges, otp_failure_budgets CASCADE`);
  await pool.query(`VACUUM ANALYZE otp_challenges`);
  await pool.query(`VACUUM ANALYZE otp_failure_budgets`);
}

/** CPU used so far by each server process connected to the bench database (pid -> ms). */
export async function databaseCpuMs(pool: Pool): Promise<Map<number, number>> {
  const { rows } = await pool.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
  return new Map(rows.map((r: { pid: number }) => [r.pid, cpuMs(r.pid)] as [number, number]).filter(([, ms]) => Number.isFinite(ms)));
}
