import { createTestDatabase, TestDatabase } from './support/test-database';
import { DataSource } from 'typeorm';
import { ALL_MIGRATIONS } from '../src/app/database/migrations';
import { OTP_ENTITIES } from '../src/otp';
import { OTP_MIGRATIONS } from '../migrations';
import { OtpAuditStore } from '../src/otp/audit/otp-audit.store';
import { newBatchId } from '../src/otp/audit/otp-audit.sql';
import { auditRowOf } from '../src/otp/audit/otp-audit.writer';
import { asAuditAppRole } from './support/app-role';

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

describe('migrations: upgrading a database whose app role was granted before', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => db?.drop());

  it('every migration has a timestamp of its own (both sets share one order)', () => {
    const stamps = ALL_MIGRATIONS.map((m) => /\d{13}$/.exec(m.name)?.[0]);
    expect(new Set(stamps).size).toBe(ALL_MIGRATIONS.length);
  });

  it('R40: the batch-id migration extends the audit grants of app roles granted before it, so their appends and retention go on', async () => {
    const last = OTP_MIGRATIONS[OTP_MIGRATIONS.length - 1];
    expect(last.name).toBe('AuditBatchIds1764097300000');
    const before = new DataSource({ type: 'postgres', url: db.url, migrations: ALL_MIGRATIONS.filter((m) => m !== last) });
    await before.initialize();
    await before.runMigrations({ transaction: 'each' });
    await before.query(`CREATE ROLE otp_upgrade_role NOLOGIN`);
    try {
      await before.query(`SELECT otp_audit_grant_app_role('otp_upgrade_role')`);
      await before.destroy();
      await db.dataSource.runMigrations({ transaction: 'each' });
      // asAuditAppRole grants a fresh role through the function; this role keeps only what it had, plus the migration's.
      const admin = (await import('pg')).Client;
      const client = new admin({ connectionString: db.url });
      await client.connect();
      try {
        await client.query(`BEGIN`);
        await client.query(`SET LOCAL ROLE otp_upgrade_role`);
        const store = new OtpAuditStore({ rows: (_l: string, text: string, p: unknown[]) => client.query(text, p).then((r) => r.rows) } as never);
        const id = newBatchId();
        await store.appendBatch([auditRowOf({ name: 'challenge.issued', outcome: 'success', at: new Date() })], id);
        await expect(client.query(`DELETE FROM otp_audit_batch WHERE id = $1`, [id])).resolves.toMatchObject({ rowCount: 1 });
        await expect(client.query(`DELETE FROM otp_audit_log`)).rejects.toMatchObject({ code: '42501' });
      } finally {
        await client.query(`ROLLBACK`).catch(() => undefined);
        await client.end();
      }
      // A role granted after the migration gets the same through the function.
      await asAuditAppRole(db.url, async (c) => {
        await expect(c.query(`SELECT count(*) FROM otp_audit_batch`)).resolves.toBeDefined();
      });
    } finally {
      if (before.isInitialized) await before.destroy();
      await db.dataSource.query(`DROP OWNED BY otp_upgrade_role`);
      await db.dataSource.query(`DROP ROLE otp_upgrade_role`);
    }
  });
});
