import type { OtpSql } from '../../src/otp/persistence/otp-sql';

/**
 * Counts the statements `sql` sends (`OtpSql.rows`) by label, and still runs them; `failed` lists those the
 * database refused (`label: message`, still failing them); `restore()` puts the method back. How the
 * group-commit tests see that concurrent requests shared statements, and whether a batch was refused.
 */
export function countStatements(sql: OtpSql): { count(label: string): number; failed: string[]; restore(): void } {
  const labels: string[] = [];
  const failed: string[] = [];
  const rows = sql.rows.bind(sql);
  const spy = jest.spyOn(sql, 'rows').mockImplementation(((label, text, values, mode) => {
    labels.push(label);
    return rows(label, text, values, mode).catch((err: Error) => {
      failed.push(`${label}: ${err.message}`);
      throw err;
    });
  }) as OtpSql['rows']);
  return { count: (label) => labels.filter((l) => l === label).length, failed, restore: () => spy.mockRestore() };
}
