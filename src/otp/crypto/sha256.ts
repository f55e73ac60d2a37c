import * as crypto from 'node:crypto';

export type DigestEncoding = 'hex' | 'base64' | 'base64url';

type OneShot = (algorithm: string, data: string | Buffer, outputEncoding: DigestEncoding) => string;

/** `crypto.hash` (Node 20.12+; the engines field allows 20.11, which lacks it). */
const oneShot = (crypto as unknown as { hash?: OneShot }).hash;

/** The same digest through a `Hash` object: Node without `crypto.hash`, and the reference the tests compare with. */
export function sha256ByHashObject(data: string | Buffer, encoding: DigestEncoding): string {
  return crypto.createHash('sha256').update(data).digest(encoding);
}

/**
 * SHA-256 of `data` (a string is hashed as UTF-8), encoded. One call into the binding where Node has
 * `crypto.hash`: for the short inputs of a request (throttler keys, commitments, token hashes) it
 * costs about half of `createHash().update().digest()`, which builds a `Hash` object each time.
 */
export const sha256: (data: string | Buffer, encoding: DigestEncoding) => string = oneShot
  ? (data, encoding) => oneShot('sha256', data, encoding)
  : sha256ByHashObject;
