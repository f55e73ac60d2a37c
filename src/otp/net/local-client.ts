import { isIP } from 'node:net';
import { isLoopbackAddress, isLoopbackHost } from './loopback';

/** The parts of an Express or Fastify request this check reads. */
export interface ClientRequestLike {
  ip?: string;
  ips?: string[];
  headers?: Record<string, string | string[] | undefined>;
  /** Set by Fastify (the Node request); Express requests are the Node request. */
  raw?: unknown;
}

const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const;

function headerValues(req: ClientRequestLike, name: string): string[] {
  const value = req.headers?.[name];
  return value === undefined ? [] : [value].flat();
}

/** Every address a forwarding header names (`Forwarded: for=`, `X-Forwarded-For`, `X-Real-IP`). */
function forwardedAddresses(req: ClientRequestLike): string[] {
  const plain = [...headerValues(req, 'x-forwarded-for'), ...headerValues(req, 'x-real-ip')].flatMap((v) => v.split(','));
  const forwarded = headerValues(req, 'forwarded').flatMap((v) => [...v.matchAll(/for\s*=\s*("[^"]*"|[^;,\s]*)/gi)].map((m) => m[1]));
  return [...plain, ...forwarded].map((a) => a.trim().replace(/^"|"$/g, '').replace(/^\[([^\]]*)\](:\d+)?$/, '$1'));
}

/**
 * Hops of `X-Forwarded-For` the adapter's trusted-proxy setting believed: Express
 * lists them in `req.ips` (empty when no proxy is trusted); Fastify defines `ips`
 * only when a proxy is trusted, with the socket address first.
 */
function trustedHops(req: ClientRequestLike): number {
  if (!Array.isArray(req.ips)) return 0;
  return req.raw !== undefined ? req.ips.length - 1 : req.ips.length;
}

/**
 * Whether a request comes from this machine. Without forwarding headers: the
 * client address is loopback. With `Forwarded`, `X-Forwarded-For` or `X-Real-IP`
 * (a proxy, perhaps on this host, relays someone else): only when the trusted-proxy
 * setting took the client from `X-Forwarded-For` and resolved it to loopback, and
 * no forwarding header names an address off this machine.
 */
export function isLocalClient(req: ClientRequestLike): boolean {
  if (!isLoopbackAddress(req.ip)) return false;
  if (!FORWARDING_HEADERS.some((h) => req.headers?.[h] !== undefined)) return true;
  if (trustedHops(req) < 1) return false;
  return forwardedAddresses(req).every((a) => isIP(a) !== 0 && isLoopbackAddress(a));
}

/** A `Host` header: a name or IPv4 address, or a bracketed IPv6 address, and perhaps a port. */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/i;

/**
 * Whether the request is addressed to this machine (`localhost` or a loopback address)
 * or to one of `names` (lower case), on any port. Against DNS rebinding: a page on a
 * name its owner re-points at 127.0.0.1 reaches us from loopback, but its `Host` is still that name.
 */
export function isAddressedLocally(req: ClientRequestLike, names: readonly string[] = []): boolean {
  const value = req.headers?.host;
  const name = typeof value === 'string' ? HOST_HEADER.exec(value)?.[1].toLowerCase() : undefined;
  if (name === undefined) return false;
  return isLoopbackHost(name) || names.includes(name.replace(/^\[|\]$/g, ''));
}
