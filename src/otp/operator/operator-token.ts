/** How to make a token the module accepts, printed in the refusal. */
export const OPERATOR_TOKEN_HINT = `generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`;

/**
 * 32 bytes is the shortest strong token, and the length that takes depends on
 * the alphabet: 43 base64url (or unpadded base64) characters, 44 padded base64
 * characters (43 of data), 64 hex characters. A token drawn only from hex
 * characters (decimal digits included) carries at most 4 bits a character.
 */
const MIN_BASE64_DATA_CHARS = 43;
const MIN_HEX_CHARS = 64;
const ALPHABET = /^(?:[A-Za-z0-9_-]+|[A-Za-z0-9+/]+={0,2})$/;
/** Bits estimated from the token's own character frequencies; 32 random bytes give well over 170. */
const MIN_ESTIMATED_BITS = 128;

function estimatedBits(token: string): number {
  const counts = new Map<string, number>();
  for (const c of token) counts.set(c, (counts.get(c) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) perChar -= (n / token.length) * Math.log2(n / token.length);
  return perChar * token.length;
}

/**
 * Why an operator token is too weak to guard the operator routes, or undefined
 * when it is (at least) 32 random bytes in base64url, base64 or hex. Never
 * repeats the token. Low-entropy tokens (one character repeated, a short pattern
 * repeated, a few distinct characters) are refused whatever their length.
 */
export function operatorTokenProblem(token: string): string | undefined {
  const weak = 'must be at least 32 random bytes (43 base64url, 44 padded base64 or 64 hex characters)';
  if (!ALPHABET.test(token)) return weak;
  const data = token.replace(/=+$/, '');
  const minimum = /^[0-9A-Fa-f]+$/.test(data) ? MIN_HEX_CHARS : MIN_BASE64_DATA_CHARS;
  if (data.length < minimum) return weak;
  if (/^(.+?)\1+$/s.test(data) || estimatedBits(token) < MIN_ESTIMATED_BITS) return `${weak}, not a pattern`;
  return undefined;
}
