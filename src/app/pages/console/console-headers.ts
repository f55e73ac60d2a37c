/** The console's CSP: same-origin files only, nothing inline, never framed. */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'self'";

/** Headers of every console answer, refusals included: the strict CSP, `no-store`, never framed. */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy': CONSOLE_CSP,
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'X-Frame-Options': 'DENY',
});

/**
 * Whether a request URL is the console's (`/admin` and below), not the JSON operator API
 * (`/admin/otp/*`, which keeps its own headers). Case-insensitive: Express routes `/Admin` too.
 */
export function isConsoleUrl(url: string | undefined): boolean {
  const path = (url ?? '').split('?')[0].toLowerCase();
  return (path === '/admin' || path.startsWith('/admin/')) && !path.startsWith('/admin/otp/');
}
