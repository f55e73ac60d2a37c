import { createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { OtpContext } from '../core/otp.types';
import { canonicalEmail, canonicalJson, contextHash, isOtpContext } from './canonical';
import { OtpCipher } from './otp-cipher';
import { generateCode } from './otp-code';
import { OtpKeyring, parseKeyList } from './otp-keyring';

const key = (id: string, bytes = 32) => ({ id, secret: randomBytes(bytes) });

describe('generateCode', () => {
  it('R22: gives zero-padded codes of the asked length from every digit', () => {
    for (const length of [6, 8, 10]) {
      const codes = Array.from({ length: 2000 }, () => generateCode(length));
      expect(codes.every((c) => new RegExp(`^[0-9]{${length}}$`).test(c))).toBe(true);
    }
    const firstDigits = new Set(Array.from({ length: 2000 }, () => generateCode(6)[0]));
    expect(firstDigits.size).toBe(10); // leading zeros occur: padding works
  });

  it('R22: the code source is uniform enough (chi-square over first digits)', () => {
    const counts = new Array(10).fill(0);
    const n = 20_000;
    for (let i = 0; i < n; i++) counts[Number(generateCode(6)[0])]++;
    const chi = counts.reduce((s, c) => s + (c - n / 10) ** 2 / (n / 10), 0);
    expect(chi).toBeLessThan(27.9); // p = 0.001 for 9 degrees of freedom
  });
});

describe('OtpKeyring', () => {
  it('R4: digests depend on the key, the challenge, the purpose and the code', () => {
    const k = new OtpKeyring([key('a')]);
    const base = k.codeDigest('id1', 'login', '123456');
    expect(base).toMatch(/^a:[A-Za-z0-9_-]{43}$/);
    expect(k.codeDigest('id2', 'login', '123456')).not.toBe(base);
    expect(k.codeDigest('id1', 'transfer', '123456')).not.toBe(base);
    expect(k.codeDigest('id1', 'login', '123457')).not.toBe(base);
    expect(new OtpKeyring([key('a')]).codeDigest('id1', 'login', '123456')).not.toBe(base);
  });

  it('R19: device digests are keyed, per address and per device, and survive a code key rotation', () => {
    const first = key('a');
    const k = new OtpKeyring([first]);
    const base = k.deviceDigest('index-1', ['Firefox on Linux', '203.0.113.0/24']);
    expect(base).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(k.deviceDigest('index-2', ['Firefox on Linux', '203.0.113.0/24'])).not.toBe(base);
    expect(k.deviceDigest('index-1', ['Chrome on Linux', '203.0.113.0/24'])).not.toBe(base);
    expect(k.deviceDigest('index-1', ['Firefox on Linux', '198.51.100.0/24'])).not.toBe(base);
    expect(k.deviceDigest('index-1', ['Firefox on Linux203.0.113.0/24', ''])).not.toBe(base); // fields are length-prefixed
    expect(new OtpKeyring([key('b'), first], first.secret).deviceDigest('index-1', ['Firefox on Linux', '203.0.113.0/24'])).toBe(base);
    expect(new OtpKeyring([key('a')]).deviceDigest('index-1', ['Firefox on Linux', '203.0.113.0/24'])).not.toBe(base);
  });

  it('R4: the stored forms do not change between releases: HMAC-SHA256 under the HKDF sub-key over length-prefixed UTF-8 fields', () => {
    // Live challenges and remembered devices hold these digests: an encoding change would void them all.
    const secret = randomBytes(32);
    const sub = (use: string) => Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `nestjs-email-otp/${use}/v1`, 32));
    const reference = (k: Buffer, fields: string[]) => {
      const mac = createHmac('sha256', k);
      for (const f of fields) {
        const bytes = Buffer.from(f, 'utf8');
        const length = Buffer.alloc(4);
        length.writeUInt32BE(bytes.length);
        mac.update(length).update(bytes);
      }
      return mac.digest('base64url');
    };
    const k = new OtpKeyring([{ id: 'k1', secret }]);
    const id = '0193a5b2-1c3d-8e4f-a5b6-c7d8e9f01234';
    expect(k.codeDigest(id, 'login', '012345')).toBe(`k1:${reference(sub('code'), [id, 'login', '012345'])}`);
    expect(k.codeCandidates(id, ['login', 'vérifier'], '987654')).toEqual(
      ['login', 'vérifier'].map((p) => `k1:${reference(sub('code'), [id, p, '987654'])}`));
    expect(k.deviceDigest('index-ü', ['Firefox on Linux', ''])).toBe(reference(sub('known-device'), ['index-ü', 'Firefox on Linux', '']));
  });

  it('offers candidates for every key and purpose, so a rotated key still verifies', () => {
    const old = key('old');
    const before = new OtpKeyring([old]);
    const after = new OtpKeyring([key('new'), old]);
    const stored = before.codeDigest('c', 'login', '000123');
    expect(after.codeCandidates('c', ['login', 'transfer'], '000123')).toContain(stored);
    expect(after.codeDigest('c', 'login', '000123')).toMatch(/^new:/);
  });

  it('R30: the blind index is keyed and stable across rotation of code keys', () => {
    const first = key('k1');
    const a = new OtpKeyring([first]);
    expect(new OtpKeyring([key('k2'), first], first.secret).blindIndex('x@example.com')).toBe(
      new OtpKeyring([first], first.secret).blindIndex('x@example.com'),
    );
    expect(a.blindIndex('x@example.com')).not.toBe(new OtpKeyring([key('k1')]).blindIndex('x@example.com'));
  });

  it('parses OTP_KEYS and refuses short keys, bad ids and duplicates', () => {
    const line = `a:${randomBytes(32).toString('base64')}, b:${randomBytes(48).toString('base64')}`;
    expect(parseKeyList(line).map((k) => k.id)).toEqual(['a', 'b']);
    expect(() => parseKeyList(`a:${randomBytes(31).toString('base64')}`)).toThrow(/at least 32/);
    expect(() => parseKeyList(`bad id:${randomBytes(32).toString('base64')}`)).toThrow(/kid/);
    expect(() => parseKeyList(`a:${randomBytes(32).toString('base64')},a:${randomBytes(32).toString('base64')}`)).toThrow(/twice/);
    expect(() => parseKeyList('')).toThrow(/no key/);
  });
});

describe('canonical forms', () => {
  it('canonicalises addresses: trim, NFKC, lower case', () => {
    expect(canonicalEmail('  Ａlice@Example.COM ')).toBe('alice@example.com');
  });

  it('canonicalJson sorts keys at every level (a jsonb round trip gives the same text)', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
  });

  it('isOtpContext: a flat object of 1 to 16 named scalars, texts up to 256 characters without control characters', () => {
    expect(isOtpContext({ amount: 10, to: 'bob', ok: true, memo: null })).toBe(true);
    for (const bad of [null, [], 'x', {}, { a: { b: 1 } }, { a: [1] }, { 'bad key': 1 }, { '1a': 1 }, { a: Number.NaN }, { a: undefined },
      { a: 'x'.repeat(257) }, { a: 'line\r\nbreak' }, { a: '\u007f' }, Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i]))]) {
      expect(isOtpContext(bad)).toBe(false);
    }
  });

  it('gives one hash per context whatever the key order, and another for any change', () => {
    expect(canonicalJson({ b: 1, a: 'x' })).toBe('{"a":"x","b":1}');
    expect(contextHash({ amount: 10, to: 'bob' })).toBe(contextHash({ to: 'bob', amount: 10 }));
    expect(contextHash({ amount: 10, to: 'bob' })).not.toBe(contextHash({ amount: '10', to: 'bob' }));
    expect(contextHash(undefined)).toBeNull();
  });

  it('hashes as first written (hashes stored with live challenges and tokens still match after an upgrade)', () => {
    for (const context of [{ amount: 10, to: 'bob' }, { note: 'ключ 🙂', n: 1.5 }] as OtpContext[]) {
      const first = createHash('sha256').update('otp-context/v1\n').update(canonicalJson(context)).digest('base64url');
      expect(contextHash(context)).toBe(first);
    }
  });
});

describe('OtpCipher', () => {
  it('round-trips, decrypts with an older key, and refuses a changed binding or ciphertext', () => {
    const old = key('old');
    const sealed = new OtpCipher([old]).encrypt('secret', 'challenge-1');
    const rotated = new OtpCipher([key('new'), old]);
    expect(rotated.decrypt(sealed, 'challenge-1')).toBe('secret');
    expect(() => rotated.decrypt(sealed, 'challenge-2')).toThrow();
    const parts = sealed.split('.');
    parts[2] = Buffer.from('tampered!').toString('base64url');
    expect(() => rotated.decrypt(parts.join('.'), 'challenge-1')).toThrow();
    expect(() => new OtpCipher([key('short', 16)])).toThrow(/32 bytes/);
  });
});
