import type { DataSource } from 'typeorm';
import type { TestDatabase } from './test-database';

/** Every row of every table in `public`, as JSON text, for "no secret in clear" assertions. */
export async function dumpAllTables(db: TestDatabase | DataSource): Promise<string> {
  const ds = 'dataSource' in db ? db.dataSource : db;
  const tables: { table_name: string }[] = await ds.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
  );
  let out = '';
  for (const { table_name } of tables) {
    const rows: { j: string }[] = await ds.query(`SELECT row_to_json(t)::text AS j FROM "${table_name}" t`);
    out += rows.map((r) => r.j).join('\n') + '\n';
  }
  return out;
}

const TIMESTAMP = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})/g;

/**
 * Whether `text` holds `code` as a number of its own: not inside a longer run of
 * letters and digits (a hex digest or base64 ciphertext holds any six digits now and
 * then), and not as the microseconds of a timestamp (".980424+00:00"), which are
 * masked first. With hundreds of rows and dozens of codes, a plain substring search
 * matched by chance in about one run in twenty.
 */
export function holdsCode(text: string, code: string): boolean {
  return new RegExp(`(?<![0-9A-Za-z])${code}(?![0-9A-Za-z])`).test(text.replace(TIMESTAMP, '<timestamp>'));
}
