import { isIP } from 'node:net';

/** `localhost`, 127.0.0.0/8 or ::1 (brackets and IPv4-mapped forms allowed): a database on this machine. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  const v4 = bare.startsWith('::ffff:') ? bare.slice('::ffff:'.length) : bare;
  return bare === 'localhost' || bare === '::1' || (isIP(v4) === 4 && v4.split('.')[0] === '127');
}
