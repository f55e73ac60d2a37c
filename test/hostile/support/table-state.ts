import { DataSource } from 'typeorm';

/** Row count and an order-independent checksum of every table in `public` (migrations bookkeeping excluded). */
export async function tableState(db: DataSource): Promise<Record<string, { rows: number; md5: string }>> {
  const tables: { table_name: string }[] = await db.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
       AND table_name <> 'migrations' ORDER BY 1`,
  );
  const out: Record<string, { rows: number; md5: string }> = {};
  for (const { table_name } of tables) {
    const [row] = await db.query(
      `SELECT count(*)::int AS rows, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS md5 FROM "${table_name}" t`,
    );
    out[table_name] = row;
  }
  return out;
}
