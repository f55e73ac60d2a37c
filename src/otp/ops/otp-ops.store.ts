import { Injectable } from '@nestjs/common';
import { OtpSql } from '../persistence/otp-sql';
import { OTP_TABLE_NAMES } from '../persistence/otp-tables';
import { deleteSubjectSql, expireUnusedSql, EXTENSION_TABLES, purgeEndedSql, revokeLiveSql } from './otp-ops.sql';

/** A table an extension added beside the module's (`otp_*`, not in `OTP_TABLES`), with its columns. */
export interface ExtensionTable {
  name: string;
  columns: string[];
}

/**
 * Maintenance statements (retention, erasure, invalidation) on tables named by the
 * services: the module's tables with a generic rule in `OTP_TABLES`, and extension
 * tables. The module's other rules are statements of each table's owner store.
 */
@Injectable()
export class OtpOpsStore {
  constructor(private readonly sql: OtpSql) {}

  /** The `otp_*` base tables of the current schema that are not the module's, with their columns. */
  async extensionTables(): Promise<ExtensionTable[]> {
    const rows = await this.sql.rows<{ table_name: string; columns: string[] }>('ops_extension_tables', EXTENSION_TABLES,
      [OTP_TABLE_NAMES], 'unprepared');
    return rows.map((r) => ({ name: r.table_name, columns: r.columns }));
  }

  async deleteByRecipientIndex(table: string, recipientIndex: string): Promise<number> {
    return this.sql.count('ops_erase', deleteSubjectSql(table), [recipientIndex], 'unprepared');
  }

  /** Marks a token table's live rows revoked (`revoked_at IS NULL` → now). */
  async revokeLiveRows(table: string): Promise<number> {
    return this.sql.count('ops_revoke', revokeLiveSql(table), [], 'unprepared');
  }

  /**
   * Ends a token table's unused rows by moving `expires_at` to now. Only rows whose
   * use column is NULL: rows that record a use (single-use bookkeeping) must keep
   * refusing a replay, so they are never touched.
   */
  async expireUnusedRows(table: string, usedColumn: string): Promise<number> {
    return this.sql.count('ops_expire', expireUnusedSql(table, usedColumn), [], 'unprepared');
  }

  /** Rows of `table` whose earliest end column (given) is older than `afterSeconds`. */
  async purgeEndedRows(table: string, endColumns: readonly string[], afterSeconds: number): Promise<number> {
    return this.sql.count('ops_purge', purgeEndedSql(table, endColumns), [afterSeconds], 'unprepared');
  }
}
