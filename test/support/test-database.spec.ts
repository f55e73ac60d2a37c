import { Client } from 'pg';
import { ADMIN_URL, createTestDatabase, dropTestDatabase, testDatabaseName } from './test-database';

async function exists(name: string): Promise<boolean> {
  const c = new Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    return (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await c.end();
  }
}

describe('test database guard', () => {
  it.each([
    'postgres://postgres@127.0.0.1:5432/postgres',
    'postgres://postgres@127.0.0.1:5432/app',
    'postgres://postgres@127.0.0.1:5432/otp_test_',
    'postgres://postgres@127.0.0.1:5432/otp_test_x%3B%20DROP%20DATABASE%20postgres',
    'postgres://postgres@127.0.0.1:5432/production_otp_test_1',
    'postgres://postgres@127.0.0.1:5432/',
  ])('refuses to drop %s, before connecting anywhere', async (url) => {
    expect(() => testDatabaseName(url)).toThrow(/refusing a database not named for tests/);
    // A server nobody listens on: the refusal comes first, not a connection error.
    await expect(dropTestDatabase(url, 'postgres://postgres@127.0.0.1:9/postgres')).rejects.toThrow(/refusing a database not named for tests/);
  });

  it('creates and drops a database named for tests', async () => {
    const db = await createTestDatabase({ migrate: false });
    expect(testDatabaseName(db.url)).toBe(db.name);
    expect(await exists(db.name)).toBe(true);
    await db.drop();
    expect(await exists(db.name)).toBe(false);
  });
});
