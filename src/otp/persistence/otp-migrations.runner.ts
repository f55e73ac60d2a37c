import { DataSource, Migration } from 'typeorm';
import { OTP_MIGRATIONS } from '../../../migrations';

/** Table the module's migrations are recorded in, unless `OTP_MIGRATIONS_TABLE` names another. */
export const OTP_MIGRATIONS_TABLE = 'otp_migrations';

/** Where releases before the package recorded them, next to the host's own migrations. */
const LEGACY_TABLE = 'migrations';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export interface OtpMigrationsOptions {
  /** @default 'otp_migrations' */
  tableName?: string;
}

/** The module's migrations table: `name`, or `otp_migrations`; anything but a plain lower-case SQL identifier throws. */
export function otpMigrationsTable(name: string | undefined, setting = 'OTP_MIGRATIONS_TABLE'): string {
  const table = name || OTP_MIGRATIONS_TABLE;
  if (!IDENTIFIER.test(table)) throw new Error(`${setting} must be a lower-case SQL identifier, got "${table}"`);
  return table;
}

function tableOf(options: OtpMigrationsOptions): string {
  return otpMigrationsTable(options.tableName);
}

/**
 * The data source as TypeORM's migration executor sees it, with only the module's migrations and
 * their own table: the host's connection (and, on PGlite, its single session) is reused, its own
 * migrations and table are left alone.
 */
function moduleView(dataSource: DataSource, table: string): DataSource {
  const view = Object.create(dataSource) as DataSource;
  Object.defineProperty(view, 'options', { value: { ...dataSource.options, migrationsTableName: table } });
  Object.defineProperty(view, 'migrations', { value: OTP_MIGRATIONS.map((M) => new M()) });
  return view;
}

const exists = async (dataSource: DataSource, table: string): Promise<boolean> =>
  Boolean((await dataSource.query(`SELECT to_regclass($1) AS t`, [`public.${table}`]))[0]?.t);

/**
 * Upgrade from a release that ran the module's migrations in the host's `migrations` table: the
 * first time the module's table is missing, the module's rows move from `migrations` into it (one
 * transaction), so nothing runs twice and the host's `migration:revert` only sees its own rows.
 * Returns how many rows moved.
 */
export async function adoptLegacyOtpMigrations(dataSource: DataSource, options: OtpMigrationsOptions = {}): Promise<number> {
  const table = tableOf(options);
  if (table === LEGACY_TABLE || (await exists(dataSource, table)) || !(await exists(dataSource, LEGACY_TABLE))) return 0;
  const names = OTP_MIGRATIONS.map((M) => M.name);
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.startTransaction();
    await runner.query(`CREATE TABLE ${table} (id SERIAL PRIMARY KEY, "timestamp" bigint NOT NULL, name varchar NOT NULL)`);
    await runner.query(`INSERT INTO ${table} ("timestamp", name) SELECT "timestamp", name FROM ${LEGACY_TABLE} WHERE name = ANY($1) ORDER BY id`, [names]);
    const moved = Number((await runner.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n);
    await runner.query(`DELETE FROM ${LEGACY_TABLE} WHERE name = ANY($1)`, [names]);
    await runner.commitTransaction();
    return moved;
  } catch (err) {
    if (runner.isTransactionActive) await runner.rollbackTransaction();
    throw err;
  } finally {
    await runner.release();
  }
}

/** Runs the module's pending migrations (each in its own transaction) in their own table. */
export async function runOtpMigrations(dataSource: DataSource, options: OtpMigrationsOptions = {}): Promise<Migration[]> {
  const table = tableOf(options);
  await adoptLegacyOtpMigrations(dataSource, { tableName: table });
  return DataSource.prototype.runMigrations.call(moduleView(dataSource, table), { transaction: 'each' });
}

/** Reverts the module's newest migration. */
export async function revertOtpMigration(dataSource: DataSource, options: OtpMigrationsOptions = {}): Promise<void> {
  const table = tableOf(options);
  await adoptLegacyOtpMigrations(dataSource, { tableName: table });
  await DataSource.prototype.undoLastMigration.call(moduleView(dataSource, table), { transaction: 'each' });
}

/** Each module migration with whether it has run: `[X] Name` or `[ ] Name`, oldest first. */
export async function showOtpMigrations(dataSource: DataSource, options: OtpMigrationsOptions = {}): Promise<{ name: string; applied: boolean }[]> {
  const table = tableOf(options);
  const recorded = new Set<string>();
  if (await exists(dataSource, table)) {
    for (const r of await dataSource.query(`SELECT name FROM ${table}`)) recorded.add(r.name as string);
  } else if (table !== LEGACY_TABLE && (await exists(dataSource, LEGACY_TABLE))) {
    // Not adopted yet (show changes nothing): what the legacy table says.
    for (const r of await dataSource.query(`SELECT name FROM ${LEGACY_TABLE}`)) recorded.add(r.name as string);
  }
  return OTP_MIGRATIONS.map((M) => ({ name: M.name, applied: recorded.has(M.name) }));
}
