import { Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { OTP_MIGRATIONS } from '../../../migrations';
import { OtpUnavailableError } from '../otp.errors';

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
 * Migrations of the module not recorded in the data source's migrations table
 * (`migrationsTableName`, `migrations` by default); all of them when the table is missing.
 */
export async function pendingOtpMigrations(db: DataSource, required: readonly string[] = OTP_MIGRATION_NAMES): Promise<string[]> {
  const table = (db.options as { migrationsTableName?: string }).migrationsTableName ?? 'migrations';
  const [found] = await db.query(`SELECT to_regclass($1) IS NOT NULL AS present`, [table]);
  if (!found?.present) return [...required];
  const rows: { name: string }[] = await db.query(`SELECT name FROM ${quoteIdent(table)}`);
  const done = new Set(rows.map((r) => r.name));
  return required.filter((name) => !done.has(name));
}

function quoteIdent(name: string): string {
  return name.split('.').map((part) => `"${part.replace(/"/g, '""')}"`).join('.');
}
