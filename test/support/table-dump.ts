import { TestDatabase } from './test-database';

/** Every row of every public table as JSON text, for "no secret in clear" assertions. */
export async function dumpAllTables(db: TestDatabase): Promise<string> {
  const tables: { table_name: string }[] = await db.dataSource.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`,
  );
  let out = '';
  for (const { table_name } of tables) {
    const rows: { j: string }[] = await db.dataSource.query(`SELECT row_to_json(t)::text AS j FROM "${table_name}" t`);
    out += rows.map((r) => r.j).join('\n');
  }
  return out;
}
