import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { OTP_MIGRATIONS } from '../src/otp';
import { EXAMPLE_APP_MIGRATIONS } from '../src/app/database/migrations';
import { createTestDatabase, TestDatabase } from './support/test-database';

const exec = promisify(execFile);

/** `nestjs-email-otp <args>` as this repo's npm scripts run it (ts-node over src/otp/cli/bin.ts). */
async function bin(args: string[], env: NodeJS.ProcessEnv) {
  try {
    const r = await exec('npx', ['ts-node', '--transpile-only', 'src/otp/cli/bin.ts', ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the nestjs-email-otp bin: the module\'s migrations in their own table', () => {
  const dbs: TestDatabase[] = [];
  afterAll(async () => Promise.all(dbs.map((d) => d.drop())));
  const fresh = async (migrate = false) => {
    const db = await createTestDatabase({ migrate });
    dbs.push(db);
    return db;
  };
  const names = async (db: TestDatabase, table: string) =>
    (await db.dataSource.query(`SELECT name FROM ${table} ORDER BY id`)).map((r: { name: string }) => r.name);

  it('OTP_MIGRATIONS holds the module\'s migrations only, one class each; accounts and transfers belong to the example app', () => {
    const otp = OTP_MIGRATIONS.map((M) => M.name);
    expect(new Set(otp).size).toBe(otp.length);
    expect(otp.filter((n) => /Accounts|Transfers/.test(n))).toEqual([]);
    expect(EXAMPLE_APP_MIGRATIONS.map((M) => M.name)).toEqual(['CreateAccounts1764091100000', 'CreateTransfers1764091200000', 'SessionPasswordGeneration1764097200000']);
  });

  it('migration:run records them in otp_migrations and creates no example-app table; show lists them; revert undoes the newest', async () => {
    const db = await fresh();
    const run = await bin(['migration:run'], { DATABASE_URL: db.url });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(await names(db, 'otp_migrations')).toEqual(OTP_MIGRATIONS.map((M) => M.name));
    const tables = (await db.dataSource.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)).map((r: { table_name: string }) => r.table_name);
    expect(tables).toEqual(expect.arrayContaining(['otp_challenges', 'otp_tokens', 'otp_audit_log']));
    expect(tables.filter((t: string) => ['accounts', 'transfers', 'migrations'].includes(t))).toEqual([]);
    const again = await bin(['migration:run'], { DATABASE_URL: db.url });
    expect(again.stdout).toContain('0 migration(s) run');
    const show = await bin(['migration:show'], { DATABASE_URL: db.url });
    expect(show.code).toBe(0);
    expect(show.stdout.trim().split('\n')).toEqual(OTP_MIGRATIONS.map((M) => `[X] ${M.name}`));
    expect((await bin(['migration:revert'], { DATABASE_URL: db.url })).code).toBe(0);
    expect(await names(db, 'otp_migrations')).toEqual(OTP_MIGRATIONS.slice(0, -1).map((M) => M.name));
    const pending = await bin(['migration:show'], { DATABASE_URL: db.url });
    expect(pending.code).toBe(1);
    expect(pending.stdout).toContain(`[ ] ${OTP_MIGRATIONS.at(-1)!.name}`);
  });

  it('OTP_MIGRATIONS_TABLE names another table', async () => {
    const db = await fresh();
    expect((await bin(['migration:run'], { DATABASE_URL: db.url, OTP_MIGRATIONS_TABLE: 'auth_otp_migrations' })).code).toBe(0);
    expect(await names(db, 'auth_otp_migrations')).toHaveLength(OTP_MIGRATIONS.length);
    const bad = await bin(['migration:run'], { DATABASE_URL: db.url, OTP_MIGRATIONS_TABLE: 'x; DROP TABLE otp_challenges' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/OTP_MIGRATIONS_TABLE must be a lower-case SQL identifier/);
  });

  it('upgrade: a database that ran everything in the old "migrations" table moves the module\'s rows to otp_migrations, runs nothing twice', async () => {
    const db = await fresh(true); // the old layout: module and app migrations in one table `migrations`
    const run = await bin(['migration:run'], { DATABASE_URL: db.url });
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('0 migration(s) run');
    expect(await names(db, 'otp_migrations')).toEqual(OTP_MIGRATIONS.map((M) => M.name));
    expect(await names(db, 'migrations')).toEqual(EXAMPLE_APP_MIGRATIONS.map((M) => M.name));
  });

  it('an unknown command prints the usage and exits 2', async () => {
    const out = await bin(['migration:frobnicate'], {});
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/^usage: nestjs-email-otp <command>/);
    expect(out.stderr).toMatch(/otp:erase --email <address>/);
  });
});
