import { getMetadataArgsStorage } from 'typeorm';
import { OTP_ENTITIES } from '../src/otp';
import { OTP_TABLES } from '../src/otp/persistence/otp-tables';
import { createTestDatabase, TestDatabase } from './support/test-database';

/**
 * Erasure, invalidate-all and retention act on the tables `OTP_TABLES` lists, not on what
 * the schema happens to hold: a migration that adds a table must add it to the registry
 * (and an entity), or these fail.
 */
describe('the registry of the module\'s tables', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  /** The migrated schema's `otp_*` base tables with their columns (the migrations' own bookkeeping table aside). */
  async function migratedTables(): Promise<Map<string, string[]>> {
    const rows: { table_name: string; columns: string[] }[] = await db.dataSource.query(
      `SELECT c.table_name, array_agg(c.column_name::text) AS columns
       FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
       WHERE c.table_schema = current_schema() AND c.table_name LIKE 'otp\\_%' AND c.table_name <> 'otp_migrations'
       GROUP BY c.table_name`);
    return new Map(rows.map((r) => [r.table_name, r.columns]));
  }

  it('lists every otp_* table the migrations create, and no other', async () => {
    const migrated = await migratedTables();
    expect(migrated.size).toBeGreaterThan(0);
    expect(OTP_TABLES.map((t) => t.name).sort()).toEqual([...migrated.keys()].sort());
  });

  it('names only columns the tables have, and erases by recipient_index only where there is one', async () => {
    const migrated = await migratedTables();
    for (const t of OTP_TABLES) {
      const columns = migrated.get(t.name) ?? [];
      if (t.erasure !== 'none') expect({ table: t.name, recipientIndex: columns.includes('recipient_index') }).toEqual({ table: t.name, recipientIndex: true });
      if (typeof t.retention === 'object') expect(columns).toEqual(expect.arrayContaining([...t.retention.ended]));
      if (typeof t.invalidation === 'object') expect(columns).toEqual(expect.arrayContaining(['expires_at', t.invalidation.expire.usedColumn]));
    }
    // Every table holding recipient_index is erased one way or the other (R30).
    for (const [name, columns] of migrated) {
      if (columns.includes('recipient_index')) expect({ name, erasure: OTP_TABLES.find((t) => t.name === name)?.erasure }).not.toEqual({ name, erasure: 'none' });
    }
  });

  it('has one entity per table in OTP_ENTITIES', () => {
    const tableOf = (entity: unknown) => getMetadataArgsStorage().tables.find((t) => t.target === entity)?.name;
    expect(OTP_ENTITIES.map(tableOf).sort()).toEqual(OTP_TABLES.map((t) => t.name).sort());
  });
});
