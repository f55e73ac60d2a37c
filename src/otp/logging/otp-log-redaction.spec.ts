import { randomUUID } from 'node:crypto';
import { mintChallengeId } from '../crypto/challenge-id';
import { maskEmail, maskPath, maskText, serializeRequest } from './otp-log-redaction';

describe('maskPath', () => {
  it('R38: an address in a path is masked also beside an invalid or incomplete escape, or an escape that is no UTF-8', () => {
    const paths = [
      '/auth/path.victim1%40example.com/%ZZ',
      '/auth/%ZZ/path.victim2%40example.com',
      '/nowhere/path.victim3%2540example.com/%E0%A4%A',
      '/nowhere/%ED%A0%80/path.victim4%40example.com',
      '/nowhere/%FF/path%2Evictim5%40example%2Ecom%',
      '/nowhere/path.victim6%252540example.com/%25ZZ',
    ];
    for (const [i, path] of paths.entries()) {
      const logged = maskPath(path);
      expect(logged).not.toMatch(new RegExp(`ath(\\.|%2E)victim${i + 1}`, 'i'));
      expect(logged).toMatch(/p\*\*\*@example\.com/);
    }
  });

  it('leaves a path without an address as it came, and masks plain and encoded addresses', () => {
    expect(maskPath('/auth/otp/challenges/abc/resend')).toBe('/auth/otp/challenges/abc/resend');
    expect(maskPath('/files/%ZZ/report%20one')).toBe('/files/%ZZ/report%20one');
    expect(maskPath('/a/jane@example.com')).toBe('/a/j***@example.com');
    expect(maskPath('/a/jane%40example.com')).toBe('/a/j***@example.com');
    expect(maskPath('/a/jane%2540example.com')).toBe('/a/j***@example.com');
  });

  it('R30: a challenge id in a path or a message is logged with its recipient tag zeroed; other UUIDs as they came', () => {
    const id = mintChallengeId('0123456789abc');
    const atRest = `00000000-0000-80${id.slice(16)}`;
    const v4 = randomUUID();
    expect(maskPath(`/auth/otp/challenges/${id}/verify`)).toBe(`/auth/otp/challenges/${atRest}/verify`);
    expect(maskPath(`/auth/otp/challenges/${id.toUpperCase()}/resend`)).toBe(`/auth/otp/challenges/${atRest}/resend`);
    expect(maskPath(`/auth/otp/challenges/${v4}/verify`)).toBe(`/auth/otp/challenges/${v4}/verify`);
    // Beside an encoded address (the decoded path is what is logged) and in free text.
    expect(maskPath(`/x/${id}/jane%40example.com`)).toBe(`/x/${atRest}/j***@example.com`);
    expect(maskPath(`/auth/otp/challenges/%3${id.slice(0, 8)}%2D${id.slice(9)}/verify`)).toBe(`/auth/otp/challenges/${atRest}/verify`);
    expect(maskText(`mail 1 (challenge ${id}) failed`)).toBe(`mail 1 (challenge ${atRest}) failed`);
    expect(serializeRequest({ method: 'POST', url: `/auth/otp/challenges/${id}/verify?x=${id}` }).url).toBe(`/auth/otp/challenges/${atRest}/verify`);
    expect(JSON.stringify(serializeRequest({ url: '/', headers: { 'user-agent': `agent ${id}` } }))).not.toContain('0123456789ab');
  });
});

/** The address pattern the masking used until 2026-12-04: the oracle the linear one must agree with. */
const PREVIOUS_EMAIL = /([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})/g;

/** A deterministic generator (mulberry32): the same strings on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The least time `fn` takes over `rounds` rounds (the least: a pause of the process only adds). */
function leastMs(fn: () => void, rounds = 5): number {
  let least = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t = process.hrtime.bigint();
    fn();
    least = Math.min(least, Number(process.hrtime.bigint() - t) / 1e6);
  }
  return least;
}

describe('masking hostile text', () => {
  it('R38: addresses are masked exactly as the previous pattern masked them, over 20,000 generated strings', () => {
    const next = seeded(42);
    const alphabet = ['a', 'b', 'c', 'x', '.', '.', '-', '@', '@', '%', '+', '1', ' ', 'B', '/', 'co', 'com', 'example'];
    const differing: [string, string, string][] = [];
    for (let i = 0; i < 20_000; i++) {
      let s = '';
      const length = 1 + Math.floor(next() * 24);
      for (let j = 0; j < length; j++) s += alphabet[Math.floor(next() * alphabet.length)];
      const masked = maskEmail(s);
      const before = s.replace(PREVIOUS_EMAIL, '$1***@$2');
      if (masked !== before) differing.push([s, masked, before]);
    }
    expect(differing.slice(0, 5)).toEqual([]);
    expect(maskText('to jane.doe@example.com, a@b.com.x@c.com and x@y')).toBe('to j***@example.com, a***@b.com.***@c.com and x@y');
  });

  it('R38: masking costs time linear in the text: 16 KB of hostile text costs per character at most 8x what 250 characters cost', () => {
    // What a header (Node accepts 16 KB of them) or a path can hold, shaped against each pattern:
    // an address without its @, dashes and dots (address characters), a domain without its TLD,
    // many @, a bearer prefix with blanks, escapes to decode, challenge-id look-alikes.
    const hostile: Record<string, (n: number) => string> = {
      letters: (n) => 'a'.repeat(n),
      dashes: (n) => '-'.repeat(n),
      'dots then @': (n) => `${'a.'.repeat(n / 2)}@`,
      'a domain without its TLD': (n) => `x@${'a-'.repeat(n / 2)}`,
      'labels without a TLD': (n) => `x@${'a.'.repeat(n / 2)}1`,
      'many @': (n) => 'a@'.repeat(n / 2),
      bearer: (n) => `Bearer ${' '.repeat(n)}!`,
      escapes: (n) => `/${'%41'.repeat(n / 3)}`,
      'id look-alikes': (n) => '0-8'.repeat(n / 3),
    };
    const big = 16_000;
    const small = 250;
    for (const [name, make] of Object.entries(hostile)) {
      const long = make(big);
      const short = make(small);
      const mask = (s: string) => {
        maskText(s);
        maskPath(s);
        serializeRequest({ method: 'GET', url: s, headers: { 'user-agent': s, host: s } });
      };
      mask(short); // compiled once before it is timed
      const longMs = leastMs(() => mask(long));
      const shortMs = leastMs(() => {
        for (let i = 0; i < big / small; i++) mask(short);
      });
      expect({ name, perCharacterRatio: longMs / shortMs < 8 ? 'at most 8' : longMs / shortMs }).toEqual({ name, perCharacterRatio: 'at most 8' });
    }
  });
});
