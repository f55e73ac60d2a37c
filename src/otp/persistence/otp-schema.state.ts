import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { OTP_MIGRATIONS } from '../../../migrations';
import { OtpUnavailableError } from '../core/otp.errors';

/**
 * Whether the database holds every migration of the module, as found at start.
 * Outside production a schema behind the code does not stop the process: the OTP
 * entry points answer `otp.unavailable` (503), the mail dispatcher does not start and
 * `/health` says `schema_out_of_date`, until the migrations run and the app restarts.
 */
@Injectable()
export class OtpSchemaState {
  private pendingNames: readonly string[] = [];

  get pending(): readonly string[] {
    return this.pendingNames;
  }

  get ready(): boolean {
    return this.pendingNames.length === 0;
  }

  markOutOfDate(pending: readonly string[]): void {
    this.pendingNames = Object.freeze([...pending]);
  }

  /** Throws `OtpUnavailableError` while migrations are pending. */
  assertReady(): void {
    if (!this.ready) throw new OtpUnavailableError(60);
  }
}

/** The module's migrations, by the name TypeORM records them under. */
export const OTP_MIGRATION_NAMES: readonly string[] = OTP_MIGRATIONS.map((m) => new m().name ?? m.name);

/**
 * Migrations of the module recorded neither in `moduleTable` (where the bin and a host following
 * the README record them) nor in the data source's own migrations table (`migrationsTableName`,
 * `migrations` by default: a host that ran `OTP_MIGRATIONS` there); all of them when neither exists.
 */
export async function pendingOtpMigrations(
  db: DataSource,
  moduleTable: string,
  required: readonly string[] = OTP_MIGRATION_NAMES,
): Promise<string[]> {
  const tables = [...new Set([moduleTable, (db.options as { migrationsTableName?: string }).migrationsTableName ?? 'migrations'])];
  const done = new Set<string>();
  for (const table of tables) {
    const [found] = await db.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [quoteIdent(table)]);
    if (!found?.present) continue;
    const rows: { name: string }[] = await db.query(`SELECT name FROM ${quoteIdent(table)}`);
    for (const r of rows) done.add(r.name);
  }
  return required.filter((name) => !done.has(name));
}

function quoteIdent(name: string): string {
  return name.split('.').map((part) => `"${part.replace(/"/g, '""')}"`).join('.');
}
