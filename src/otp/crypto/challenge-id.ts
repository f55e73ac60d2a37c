import { randomBytesPooled } from './random-pool';

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
  const r = randomBytesPooled(9).toString('hex');
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

/** The first 52 bits of a UUIDv8 at rest: the tag's place, zeroed (version nibble 8 kept). */
const UNTAGGED_PREFIX = '00000000-0000-80';
/** Every UUIDv8 in a text, not inside a longer run of hex digits. */
const UUID_V8_IN_TEXT = /(?<![0-9a-f])[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}(?![0-9a-f])/gi;

/**
 * A challenge id as it is kept: in audit rows, log lines, and any table or sink that outlives the
 * challenge. For a UUIDv8 (`mintChallengeId`), the same id, lowercase, with its recipient tag
 * zeroed (`00000000-0000-80xx-…`): the version, the variant and the 70 random bits are kept, so
 * it still names one challenge, but nothing in it says whose, and one person's ids at rest share
 * nothing. Any other string (a v4 id from before tags, no UUID) is returned as it is.
 *
 * Only the client and the request in flight see the tag (the verify limiter reads it); a search by
 * the id a user reports converts it first (the audit query does).
 */
export function untaggedChallengeId(id: string): string {
  return UUID_V8.test(id) ? UNTAGGED_PREFIX + id.slice(16).toLowerCase() : id;
}

/** `text` with every UUIDv8 in it at rest (`untaggedChallengeId`): what the log masking applies to every line. */
export function untagChallengeIds(text: string): string {
  // Every UUIDv8 has `-8` (its version) in it: most lines are left without running the pattern.
  return text.includes('-8') ? text.replace(UUID_V8_IN_TEXT, untaggedChallengeId) : text;
}
