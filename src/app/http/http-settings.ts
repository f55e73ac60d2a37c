import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

export type HttpAdapterName = 'express' | 'fastify';

/** How the example app serves HTTP, read once from the environment (README, "HTTP hardening"). */
export interface HttpSettings {
  adapter: HttpAdapterName;
  /** Express `trust proxy` syntax: `false` (default), a hop count, or addresses/CIDRs/`loopback`-style names. */
  trustProxy: false | number | string[];
  /** Certificate and key (PEM) when HTTPS is served by the app itself. */
  tls?: { cert: Buffer; key: Buffer };
  /** The app sits behind a proxy that terminates TLS (`TLS_TERMINATED_BY_PROXY=true`). */
  tlsTerminatedByProxy: boolean;
  production: boolean;
  /** Swagger UI at /docs and the document at /docs-json: on in development, in production only with `OPENAPI=true`. */
  openApi: boolean;
  /** A second listener for the operator routes (`OPERATOR_PORT`, `OPERATOR_HOST`); they are then 404 on the public port. */
  operator?: { port: number; host: string };
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** In production: more hops, or a range broader than these, would let far-away clients choose their IP. */
export const MAX_TRUSTED_HOPS = 3;
const MIN_PREFIX = { 4: 8, 6: 32 } as const;

/** An IPv6 address (any spelling `isIP` accepts: long, short, with an IPv4 tail) as its 128 bits. */
function ipv6Bits(address: string): bigint {
  let text = address.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

const MAPPED_PREFIX = 0xffffn << 32n; // ::ffff:0:0/96, where proxy-addr matches IPv4 clients against IPv6 ranges

/**
 * The IPv4 prefix length an IPv6 range stands for when it holds IPv4-mapped
 * addresses, whatever its spelling: `::ffff:a.b.c.d/n` (n >= 96) is an IPv4
 * /(n-96); a range of /96 or broader that holds all of `::ffff:0:0/96` (`::/80`)
 * is an IPv4 /0. Undefined for an IPv6 range holding no mapped address.
 */
function mappedIpv4Bits(address: string, bits: number): number | undefined {
  const value = ipv6Bits(address);
  const shift = BigInt(128 - Math.min(bits, 96));
  if (value >> shift !== MAPPED_PREFIX >> shift) return undefined;
  return bits >= 96 ? bits - 96 : 0;
}

/** Why one `TRUST_PROXY` entry is refused, or undefined when it is acceptable. */
function entryProblem(entry: string, production: boolean): string | undefined {
  if (PROXY_NAMES.has(entry)) return undefined;
  const [address, bits, extra] = entry.split('/');
  const family = isIP(address);
  const max = family === 6 ? 128 : 32;
  if (family === 0 || extra !== undefined || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= max))) {
    return `TRUST_PROXY entry "${entry}" is not an address, a CIDR or one of ${[...PROXY_NAMES].join(', ')}`;
  }
  const prefix = bits === undefined ? max : Number(bits);
  const v4Bits = family === 4 ? prefix : mappedIpv4Bits(address, prefix);
  if (prefix === 0 || v4Bits === 0) {
    return `TRUST_PROXY entry "${entry}" trusts every address, so any client could choose its IP: name the proxies' addresses or CIDRs`;
  }
  if (!production) return undefined;
  if (v4Bits !== undefined ? v4Bits < MIN_PREFIX[4] : prefix < MIN_PREFIX[6]) {
    const [kind, min] = v4Bits !== undefined ? ['IPv4', MIN_PREFIX[4]] : ['IPv6', MIN_PREFIX[6]];
    return `TRUST_PROXY entry "${entry}" is broader than /${min} (${kind}), refused in production: name the proxies' own range`;
  }
  return undefined;
}

/**
 * Parses `TRUST_PROXY` in the syntax of Express's `trust proxy` setting. `true`
 * (trust every hop) and a `/0` range are refused: they let any client choose its
 * own IP and so escape every per-IP limit. In production, more than
 * `MAX_TRUSTED_HOPS` hops and ranges broader than /8 (IPv4) or /32 (IPv6) are
 * refused too.
 */
export function parseTrustProxy(raw: string | undefined, production = false): false | number | string[] {
  const value = (raw ?? '').trim();
  if (value === '' || value === 'false') return false;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (production && hops > MAX_TRUSTED_HOPS) {
      throw new Error(`TRUST_PROXY=${value} trusts ${value} hops of X-Forwarded-For; production allows at most ${MAX_TRUSTED_HOPS}: set the number of proxies in front of the app, or their CIDRs`);
    }
    return hops;
  }
  if (value === 'true') throw new Error('TRUST_PROXY=true would let any client pick its IP: name the proxies (loopback, CIDRs) or a hop count');
  const entries = value.split(',').map((e) => e.trim()).filter((e) => e !== '');
  for (const entry of entries) {
    const problem = entryProblem(entry, production);
    if (problem) throw new Error(problem);
  }
  return entries;
}

/**
 * Reads `HTTP_ADAPTER`, `TRUST_PROXY`, `TLS_CERT_FILE`/`TLS_KEY_FILE` and
 * `TLS_TERMINATED_BY_PROXY`. In production the app refuses to start on plain
 * HTTP unless a TLS-terminating proxy is declared.
 */
export function httpSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): HttpSettings {
  const adapter = (env.HTTP_ADAPTER ?? 'express').trim().toLowerCase();
  if (adapter !== 'express' && adapter !== 'fastify') throw new Error(`HTTP_ADAPTER must be express or fastify (got "${adapter}")`);
  if (Boolean(env.TLS_CERT_FILE) !== Boolean(env.TLS_KEY_FILE)) throw new Error('set both TLS_CERT_FILE and TLS_KEY_FILE, or neither');
  const tls = env.TLS_CERT_FILE && env.TLS_KEY_FILE
    ? { cert: readFileSync(env.TLS_CERT_FILE), key: readFileSync(env.TLS_KEY_FILE) }
    : undefined;
  const tlsTerminatedByProxy = env.TLS_TERMINATED_BY_PROXY === 'true';
  const production = env.NODE_ENV === 'production';
  if (production && !tls && !tlsTerminatedByProxy) {
    throw new Error('refusing to serve plain HTTP in production: set TLS_CERT_FILE and TLS_KEY_FILE, or TLS_TERMINATED_BY_PROXY=true behind a TLS-terminating proxy');
  }
  return {
    adapter, trustProxy: parseTrustProxy(env.TRUST_PROXY, production), tls, tlsTerminatedByProxy, production,
    openApi: parseOpenApi(env.OPENAPI, production),
    operator: parseOperatorListener(env.OPERATOR_PORT, env.OPERATOR_HOST),
  };
}

/** `OPENAPI=true|false`; unset: on in development, off in production (the document maps every route for a stranger). */
function parseOpenApi(raw: string | undefined, production: boolean): boolean {
  const value = (raw ?? '').trim();
  if (value === '') return !production;
  if (value !== 'true' && value !== 'false') throw new Error(`OPENAPI must be true or false (got "${value}")`);
  return value === 'true';
}

/** `OPERATOR_PORT` (0 picks a free port) on `OPERATOR_HOST`, loopback unless named. */
function parseOperatorListener(port: string | undefined, host: string | undefined): HttpSettings['operator'] {
  const p = (port ?? '').trim();
  const h = (host ?? '').trim();
  if (p === '') {
    if (h !== '') throw new Error('OPERATOR_HOST needs OPERATOR_PORT: set both, or neither');
    return undefined;
  }
  if (!/^\d{1,5}$/.test(p) || Number(p) > 65_535) throw new Error(`OPERATOR_PORT must be a port number from 0 to 65535 (got "${p}")`);
  return { port: Number(p), host: h === '' ? '127.0.0.1' : h };
}

/** TLS server options: TLS 1.2 minimum (1.0 and 1.1 handshakes fail). */
export function tlsServerOptions(tls: { cert: Buffer; key: Buffer }): { cert: Buffer; key: Buffer; minVersion: 'TLSv1.2' } {
  return { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' };
}
