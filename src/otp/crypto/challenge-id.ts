import { randomBytes } from 'node:crypto';

/** Hex digits of a recipient tag: 52 bits, the part of a UUIDv8 before its random remainder. */
export const RECIPIENT_TAG_HEX = 13;

const TAG = /^[0-9a-f]{13}$/;
/** RFC 9562 UUIDv8: version nibble 8, variant bits 10. */
const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * A new challenge id: an RFC 9562 UUIDv8 whose first 52 bits (bytes 0-5 and the low nibble of
 * byte 6) are the recipient's `tag` (`OtpKeyring.recipientTag`), and whose other 70 bits (after
 * the version and variant) come from the CSPRNG. The rate limiter reads the tag back from the id
 * (`recipientTagOf`), so verify needs no database read to key its per-recipient counter.
 */
export function mintChallengeId(tag: string): string {
  if (!TAG.test(tag)) throw new Error(`a recipient tag is ${RECIPIENT_TAG_HEX} lowercase hex digits`);
  const r = randomBytes(9).toString('hex');
  const variant = (0x8 | (parseInt(r[0], 16) & 0x3)).toString(16);
  return `${tag.slice(0, 8)}-${tag.slice(8, 12)}-8${tag[12]}${r.slice(1, 3)}-${variant}${r.slice(3, 6)}-${r.slice(6)}`;
}

/**
 * The recipient tag a UUIDv8 challenge id carries (lowercase hex), or `undefined` for any other
 * value: an id of another version (v4, minted before tags) or no UUID at all. The tag says whose
 * counter a verify counts in, never that the challenge exists: a forged id matches no row.
 */
export function recipientTagOf(id: unknown): string | undefined {
  if (typeof id !== 'string' || !UUID_V8.test(id)) return undefined;
  const lower = id.toLowerCase();
  return lower.slice(0, 8) + lower.slice(9, 13) + lower[15];
}
