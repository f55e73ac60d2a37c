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

function urlFor(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Creates a uniquely named database, runs the real migrations on it, and returns a handle to drop it.
 * `adminUrl`: another server to create it on (a private one, see `private-postgres.ts`).
 */
export async function createTestDatabase(opts: { migrate?: boolean; adminUrl?: string } = {}): Promise<TestDatabase> {
  const adminUrl = opts.adminUrl ?? ADMIN_URL;
  const name = `otp_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  if (!/^otp_test_[0-9a-z_]+$/.test(name)) throw new Error(`refusing a database not named for tests: ${name}`);
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = urlFor(adminUrl, name);
  const dataSource = new DataSource({ type: 'postgres', url, migrations: ALL_MIGRATIONS, extra: { max: 60 } });
  await dataSource.initialize();
  if (opts.migrate !== false) await dataSource.runMigrations({ transaction: 'each' });
  return {
    name,
    url,
    dataSource,
    async drop() {
      if (dataSource.isInitialized) await dataSource.destroy();
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
