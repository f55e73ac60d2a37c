import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { ALL_MIGRATIONS } from '../../src/app/database/migrations';

/** Server the tests create their databases on; never a production one. */
export const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  /** A data source on it (migrated unless asked otherwise). */
  dataSource: DataSource;
  drop(): Promise<void>;
}

/** Every database the tests create or drop has a name that says it is for tests. */
const TEST_DATABASE_NAME = /^otp_test_[0-9a-z_]+$/;

function urlFor(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * The database a URL names, refused unless that name says it is for tests (`otp_test_…`): whatever URL reaches
 * a CREATE or DROP here (a mistyped TEST_DATABASE_ADMIN_URL, a suite passing DATABASE_URL), a real database is never touched.
 */
export function testDatabaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!TEST_DATABASE_NAME.test(name)) throw new Error(`refusing a database not named for tests: "${name}" (expected otp_test_…)`);
  return name;
}

async function onServer(adminUrl: string, sql: string): Promise<void> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** Drops the test database `url` names (through the server of `adminUrl`); refuses any other database before connecting. */
export async function dropTestDatabase(url: string, adminUrl = ADMIN_URL): Promise<void> {
  const name = testDatabaseName(url);
  await onServer(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

/**
 * Creates a uniquely named database, runs the real migrations on it, and returns a handle to drop it.
 * `adminUrl`: another server to create it on (a private one, see `private-postgres.ts`).
 */
export async function createTestDatabase(opts: { migrate?: boolean; adminUrl?: string } = {}): Promise<TestDatabase> {
  const adminUrl = opts.adminUrl ?? ADMIN_URL;
  const url = urlFor(adminUrl, `otp_test_${process.pid}_${randomBytes(4).toString('hex')}`);
  const name = testDatabaseName(url);
  await onServer(adminUrl, `CREATE DATABASE ${name}`);
  const dataSource = new DataSource({ type: 'postgres', url, migrations: ALL_MIGRATIONS, extra: { max: 60 } });
  await dataSource.initialize();
  if (opts.migrate !== false) await dataSource.runMigrations({ transaction: 'each' });
  return {
    name,
    url,
    dataSource,
    async drop() {
      if (dataSource.isInitialized) await dataSource.destroy();
      await dropTestDatabase(url, adminUrl);
    },
  };
}
