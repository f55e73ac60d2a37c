/**
 * Maintenance statements over tables named at run time: the module's tables that
 * `OTP_TABLES` says follow a generic rule, and `otp_*` tables an extension adds (found
 * by their columns). Identifiers are quoted; values are parameters.
 */

export const quoteIdent = (ident: string) => `"${ident.replace(/"/g, '""')}"`;

/** `otp_*` base tables of the current schema outside `$1` (the module's own), with their columns. */
export const EXTENSION_TABLES = `SELECT c.table_name, array_agg(c.column_name::text ORDER BY c.ordinal_position) AS columns
   FROM information_schema.columns c
   JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE'
   WHERE c.table_schema = current_schema() AND c.table_name LIKE 'otp\\_%' AND NOT (c.table_name = ANY($1::text[]))
   GROUP BY c.table_name ORDER BY c.table_name`;

export const deleteSubjectSql = (table: string) => `DELETE FROM ${quoteIdent(table)} WHERE recipient_index = $1`;

export const revokeLiveSql = (table: string) => `UPDATE ${quoteIdent(table)} SET revoked_at = now() WHERE revoked_at IS NULL`;

export const expireUnusedSql = (table: string, usedColumn: string) =>
  `UPDATE ${quoteIdent(table)} SET expires_at = now() WHERE expires_at > now() AND ${quoteIdent(usedColumn)} IS NULL`;

export function purgeEndedSql(table: string, endColumns: readonly string[]): string {
  const least = endColumns.map((c) => `COALESCE(${quoteIdent(c)}, 'infinity')`).join(', ');
  return `DELETE FROM ${quoteIdent(table)} WHERE LEAST(${least}, 'infinity') < now() - make_interval(secs => $1)`;
}
