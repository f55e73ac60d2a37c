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

/**
 * The server answered the statement with an error (a SQLSTATE, on the error itself or on TypeORM's
 * `driverError`), so it rolled back. Not when the database is unavailable (`isDatabaseUnavailable`: class 08,
 * 53300, the end of the connection, 57P01-57P05), nor after any FATAL or PANIC (an error after the commit record is
 * raised to PANIC), nor for 40003 (statement completion unknown): those statements may have committed.
 */
export function refusedByServer(err: unknown): boolean {
  const e = err as { code?: unknown; severity?: unknown; driverError?: { code?: unknown; severity?: unknown } } | null;
  const code = e?.code ?? e?.driverError?.code;
  const severity = e?.severity ?? e?.driverError?.severity;
  if (severity === 'FATAL' || severity === 'PANIC' || code === '40003' || isDatabaseUnavailable(err)) return false;
  // Every SQLSTATE has a digit; a socket error's code (EPIPE, EBADF: five letters too) has none.
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && /[0-9]/.test(code);
}
