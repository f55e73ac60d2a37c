import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** A table of the current schema and the columns it has (discovered, for tables other parts add). */
export interface DiscoveredTable {
  name: string;
  columns: string[];
}

const quote = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

/** Tables whose rows the audit functions own; generic maintenance never touches them directly. */
export const AUDIT_TABLES = ['otp_audit_log', 'otp_audit_head', 'otp_audit_anchor'];

/** Maintenance queries (retention, erasure, invalidation); each method is one statement. */
@Injectable()
export class OtpOpsStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Every base table of the current schema with its columns. */
  async tables(): Promise<DiscoveredTable[]> {
    const rows: { table_name: string; columns: string[] }[] = await this.db.query(
      `SELECT c.table_name, array_agg(c.column_name::text ORDER BY c.ordinal_position) AS columns
       FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
       WHERE c.table_schema = current_schema()
       GROUP BY c.table_name ORDER BY c.table_name`,
    );
    return rows.map((r) => ({ name: r.table_name, columns: r.columns }));
  }

  async deleteByRecipientIndex(table: string, recipientIndex: string): Promise<number> {
    const [, count] = await this.db.query(`DELETE FROM ${quote(table)} WHERE recipient_index = $1`, [recipientIndex]);
    return Number(count ?? 0);
  }

  /** Ends every live challenge (after a restore, codes consumed since the backup must not come back). */
  async supersedeAllLiveChallenges(): Promise<number> {
    const [, count] = await this.db.query(
      `UPDATE otp_challenges SET superseded_at = now(), delivery_ciphertext = NULL
       WHERE consumed_at IS NULL AND superseded_at IS NULL`,
    );
    return Number(count ?? 0);
  }

  /** Marks a token table's live rows revoked (`revoked_at IS NULL` → now). */
  async revokeLiveRows(table: string): Promise<number> {
    const [, count] = await this.db.query(`UPDATE ${quote(table)} SET revoked_at = now() WHERE revoked_at IS NULL`);
    return Number(count ?? 0);
  }

  /**
   * Ends a token table's unused rows by moving `expires_at` to now. Only rows whose
   * use column is NULL: rows that record a use (single-use bookkeeping) must keep
   * refusing a replay, so they are never touched.
   */
  async expireUnusedRows(table: string, usedColumn: string): Promise<number> {
    const [, count] = await this.db.query(
      `UPDATE ${quote(table)} SET expires_at = now() WHERE expires_at > now() AND ${quote(usedColumn)} IS NULL`,
    );
    return Number(count ?? 0);
  }

  /** Challenges that ended (consumed, superseded or expired) more than `afterSeconds` ago. */
  async purgeEndedChallenges(afterSeconds: number): Promise<number> {
    const [, count] = await this.db.query(
      `DELETE FROM otp_challenges
       WHERE LEAST(COALESCE(consumed_at, 'infinity'), COALESCE(superseded_at, 'infinity'), expires_at) < now() - make_interval(secs => $1)`,
      [afterSeconds],
    );
    return Number(count ?? 0);
  }

  /** Wipes the encrypted delivery data (address, code, requesting IP) of challenges created more than `afterSeconds` ago. */
  async wipeOldDeliveries(afterSeconds: number): Promise<number> {
    const [, count] = await this.db.query(
      `UPDATE otp_challenges SET delivery_ciphertext = NULL
       WHERE delivery_ciphertext IS NOT NULL AND created_at < now() - make_interval(secs => $1)`,
      [afterSeconds],
    );
    return Number(count ?? 0);
  }

  /** Failure budgets whose window has passed: they no longer limit anything. */
  async purgeLapsedBudgets(windowSeconds: number): Promise<number> {
    const [, count] = await this.db.query(
      `DELETE FROM otp_failure_budgets WHERE window_started_at <= now() - make_interval(secs => $1)`,
      [windowSeconds],
    );
    return Number(count ?? 0);
  }

  /** Rows of another OTP table whose earliest end column (given) is older than `afterSeconds`. */
  async purgeEndedRows(table: string, endColumns: string[], afterSeconds: number): Promise<number> {
    const least = endColumns.map((c) => `COALESCE(${quote(c)}, 'infinity')`).join(', ');
    const [, count] = await this.db.query(
      `DELETE FROM ${quote(table)} WHERE LEAST(${least}, 'infinity') < now() - make_interval(secs => $1)`,
      [afterSeconds],
    );
    return Number(count ?? 0);
  }
}
