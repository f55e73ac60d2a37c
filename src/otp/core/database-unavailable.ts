/**
 * Whether an error means the database cannot answer now (an outage, a restart, a full
 * connection table), rather than a query that is wrong: PostgreSQL's connection and
 * shutdown classes (08, 53300, 57P01-57P05), refused or reset sockets, and node-postgres'
 * own messages for a lost connection or a pool that could not connect in time.
 * TypeORM's QueryFailedError carries the driver's error in `driverError`.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const driver = (error as { driverError?: unknown })?.driverError ?? error;
  if (!(driver instanceof Error)) return false;
  const code = String((driver as { code?: unknown }).code ?? '');
  if (code.startsWith('08') || ['53300', '57P01', '57P02', '57P03', '57P04', '57P05'].includes(code)) return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND'].includes(code)) return true;
  return /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/.test(driver.message);
}
