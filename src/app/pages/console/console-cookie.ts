/** Name of the console's session cookie (path `/admin`, so no `__Host-` prefix). */
export const CONSOLE_COOKIE = 'otp_console';
const ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * The console session id from a `Cookie` header, or undefined: malformed headers, a
 * malformed value and repeated cookies of that name all read as no session.
 */
export function consoleSessionId(header: unknown): string | undefined {
  if (typeof header !== 'string' || header.length > 8192) return undefined;
  const values = header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.startsWith(`${CONSOLE_COOKIE}=`))
    .map((pair) => pair.slice(CONSOLE_COOKIE.length + 1));
  return values.length === 1 && ID.test(values[0]) ? values[0] : undefined;
}

/** `Set-Cookie` for a session (`maxAgeSeconds` 0 clears it). */
export function consoleCookie(id: string, maxAgeSeconds: number, secure: boolean): string {
  return [`${CONSOLE_COOKIE}=${id}`, 'Path=/admin', `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])].join('; ');
}
