import { randomInt } from 'node:crypto';

/** A uniformly random code of `length` digits from the CSPRNG, zero-padded. */
export function generateCode(length: number): string {
  let code = '';
  // randomInt's range is limited to < 2^48, so draw in chunks of at most 6 digits.
  while (code.length < length) {
    const digits = Math.min(6, length - code.length);
    code += randomInt(0, 10 ** digits).toString().padStart(digits, '0');
  }
  return code;
}
