import type { OtpSql } from '../../src/otp/persistence/otp-sql';

/**
 * Counts the statements `sql` sends (`OtpSql.rows`) by label, and still runs them; `restore()` puts the
 * method back. How the group-commit tests see that concurrent requests shared statements.
 */
export function countStatements(sql: OtpSql): { count(label: string): number; restore(): void } {
  const labels: string[] = [];
  const rows = sql.rows.bind(sql);
  const spy = jest.spyOn(sql, 'rows').mockImplementation(((label, text, values, mode) => {
    labels.push(label);
    return rows(label, text, values, mode);
  }) as OtpSql['rows']);
  return { count: (label) => labels.filter((l) => l === label).length, restore: () => spy.mockRestore() };
}
