import { createTestDatabase, TestDatabase } from './support/test-database';
import { DataSource } from 'typeorm';
import { ALL_MIGRATIONS } from '../src/app/database/migrations';
import { OTP_ENTITIES } from '../src/otp';

describe('migrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => db?.drop());

  const tables = async () =>
    (await db.dataSource.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations' ORDER BY 1`))
      .map((r: { table_name: string }) => r.table_name);
  const schema = async () =>
    JSON.stringify(await db.dataSource.query(
      `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name <> 'migrations' ORDER BY table_name, column_name`,
    )) + JSON.stringify(await db.dataSource.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'migrations' ORDER BY 1`));

  it('run, revert all, and run again on a fresh database give the same schema', async () => {
    await db.dataSource.runMigrations({ transaction: 'each' });
    const first = await schema();
    expect(await tables()).toEqual(expect.arrayContaining(['otp_challenges', 'otp_failure_budgets']));
    for (let i = 0; i < ALL_MIGRATIONS.length; i++) await db.dataSource.undoLastMigration({ transaction: 'each' });
    expect(await tables()).toEqual([]);
    await db.dataSource.runMigrations({ transaction: 'each' });
    expect(await schema()).toBe(first);
  });

  it('the entities match the migrated schema (migration:generate would find nothing)', async () => {
    await db.dataSource.runMigrations({ transaction: 'each' });
    const withEntities = new DataSource({ type: 'postgres', url: db.url, entities: OTP_ENTITIES });
    await withEntities.initialize();
    try {
      const pending = await withEntities.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    } finally {
      await withEntities.destroy();
    }
  });

  it('uses timestamptz for every timestamp column', async () => {
    const rows = await db.dataSource.query(
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_schema = 'public' AND data_type = 'timestamp without time zone'`,
    );
    expect(rows).toEqual([]);
  });
});
