/** Name of the console's session cookie in development (path `/admin`, plain HTTP allowed). */
export const CONSOLE_COOKIE = 'otp_console';
/**
 * Name of the session cookie wherever it is `Secure` (production). The `__Host-` prefix makes
 * the browser refuse any such cookie set with a `Domain` (a sibling subdomain cannot plant
 * one) or without `Secure`; it requires `Path=/`. `__Secure-` would keep `Path=/admin` but
 * still accept a planted `Domain=.example.com` cookie, so it would not stop the lock-out.
 */
export const CONSOLE_HOST_COOKIE = '__Host-otp_console';
const ID = /^[A-Za-z0-9_-]{1,128}$/;

/** The cookie's name: `__Host-otp_console` when `Secure`, else `otp_console`. */
export function consoleCookieName(secure: boolean): string {
  return secure ? CONSOLE_HOST_COOKIE : CONSOLE_COOKIE;
}

/**
 * Every well-formed session id the `Cookie` header carries under the console cookie's name
 * (the caller takes the one that names a live session: a planted duplicate never hides it).
 * A malformed header reads as none.
 */
export function consoleSessionIds(header: unknown, secure = false): string[] {
  if (typeof header !== 'string' || header.length > 8192) return [];
  const prefix = `${consoleCookieName(secure)}=`;
  return header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.startsWith(prefix))
    .map((pair) => pair.slice(prefix.length))
    .filter((value) => ID.test(value))
    .slice(0, 16);
}

/** `Set-Cookie` for a session (`maxAgeSeconds` 0 clears it). */
export function consoleCookie(id: string, maxAgeSeconds: number, secure: boolean): string {
  return [`${consoleCookieName(secure)}=${id}`, `Path=${secure ? '/' : '/admin'}`, `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : [])]
    .join('; ');
}
