import helmet, { HelmetOptions } from 'helmet';

/** Security headers on both adapters: HSTS for a year with subdomains, CSP, nosniff, frameguard. */
export const HELMET_OPTIONS: HelmetOptions = {
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  referrerPolicy: { policy: 'no-referrer' },
};

/**
 * The headers helmet sets with `options`, computed once: none of them depends on the
 * request (no CSP nonces, no function directives), so each request only copies them.
 * helmet's own middleware rebuilds the CSP value per request, and `@fastify/helmet`
 * builds a whole helmet instance per request; the headers are the same.
 */
export function securityHeaders(options: HelmetOptions = HELMET_OPTIONS): ReadonlyArray<readonly [string, string]> {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: unknown) => void headers.set(name, String(value)),
    removeHeader: (name: string) => void headers.delete(name),
  };
  helmet(options)({} as never, recorder as never, (err?: unknown) => {
    if (err) throw err;
  });
  return [...headers];
}
