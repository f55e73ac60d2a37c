import { createTestDatabase, TestDatabase } from './support/test-database';

const tables = async (db: TestDatabase): Promise<string[]> =>
  (await db.dataSource.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`))
    .map((r: { table_name: string }) => r.table_name);

describe('Migrations of tokens, accounts and transfers', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('each down() undoes its up(), and the migrations apply again', async () => {
    const migrated = await tables(db);
    expect(migrated).toEqual(expect.arrayContaining(['otp_tokens', 'accounts', 'account_sessions', 'transfers']));
    const applied = async () => (await db.dataSource.query(`SELECT name FROM migrations`)).map((r: { name: string }) => r.name);
    // Revert everything that was applied after the core tables: the newest first.
    while ((await applied()).length > 1) await db.dataSource.undoLastMigration({ transaction: 'each' });
    const reverted = await tables(db);
    for (const t of ['otp_tokens', 'accounts', 'account_sessions', 'transfers']) expect(reverted).not.toContain(t);
    const indexes = await db.dataSource.query(`SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE ANY (ARRAY['otp_tokens%', 'account%', 'transfers%'])`);
    expect(indexes).toEqual([]);
    await db.dataSource.runMigrations({ transaction: 'each' });
    expect(await tables(db)).toEqual(migrated);
  });
});
