import { isIP } from 'node:net';
import { normalizeIp } from '@nestjs/throttler';

/**
 * The network of a client address, as a coarse location that names no one host:
 * IPv4 `/24` (`203.0.113.0/24`), IPv6 `/48` (`2001:db8:1::/48`), IPv4-mapped IPv6
 * as IPv4. The same cut as the audit trail's IP truncation. Undefined for anything
 * that is not an IP address.
 */
export function ipNetwork(ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  const normal = normalizeIp(ip.trim(), 48);
  if (isIP(normal) === 4) return normal.replace(/\.\d+$/, '.0/24');
  if (normal === '::1') return '::/48'; // the throttler keeps loopback whole
  const [net, bits] = normal.split('/');
  return bits === '48' && isIP(net) === 6 ? normal : undefined;
}
