import { randomBytes, randomUUID } from 'node:crypto';
import { mintChallengeId, recipientTagOf } from './challenge-id';
import { OtpKeyring } from './otp-keyring';
import { isUuid } from './uuid';

const key = (id: string) => ({ id, secret: randomBytes(32) });
const bytesOf = (id: string) => Buffer.from(id.replace(/-/g, ''), 'hex');

describe('challenge ids (UUIDv8 with a recipient tag)', () => {
  const keyring = new OtpKeyring([key('a')]);
  const alice = keyring.blindIndex('alice@example.com');
  const bob = keyring.blindIndex('bob@example.com');

  it('R11: a new challenge id is an RFC 9562 UUIDv8: version 8, RFC variant, lowercase', () => {
    for (let i = 0; i < 200; i++) {
      const id = keyring.newChallengeId(alice);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const b = bytesOf(id);
      expect(b).toHaveLength(16);
      expect(b[6] >> 4).toBe(8);
      expect(b[8] >> 6).toBe(0b10);
      expect(isUuid(id)).toBe(true);
    }
  });

  it('R11: one recipient\'s ids share its tag, another recipient\'s carry another, and the random remainder differs', () => {
    const ids = Array.from({ length: 100 }, () => keyring.newChallengeId(alice));
    const tag = keyring.recipientTag(alice);
    expect(tag).toMatch(/^[0-9a-f]{13}$/);
    expect(new Set(ids.map(recipientTagOf))).toEqual(new Set([tag]));
    expect(recipientTagOf(keyring.newChallengeId(bob))).toBe(keyring.recipientTag(bob));
    expect(keyring.recipientTag(bob)).not.toBe(tag);
    // 70 random bits after the tag: no two alike, and every one of them varies.
    const rest = ids.map((id) => bytesOf(id).subarray(7));
    expect(new Set(rest.map((r) => r.toString('hex'))).size).toBe(ids.length);
    const varying = rest.reduce((acc, r) => acc.map((v, i) => v | (r[i] ^ rest[0][i])), Array<number>(9).fill(0));
    expect(varying).toEqual([0xff, 0x3f, ...Array<number>(7).fill(0xff)]);
  });

  it('R30: the tag is keyed by the index key (not the code keys) under its own label', () => {
    const first = key('k1');
    const index = randomBytes(32);
    const before = new OtpKeyring([first], index);
    // A code key rotation keeps every tag: live challenges keep their counter.
    expect(new OtpKeyring([key('k2'), first], index).recipientTag('idx')).toBe(before.recipientTag('idx'));
    expect(new OtpKeyring([first], randomBytes(32)).recipientTag('idx')).not.toBe(before.recipientTag('idx'));
    // Not a slice of the blind index or the device digest: a sub-key of its own.
    expect(Buffer.from(before.blindIndex('idx'), 'base64url').toString('hex').slice(0, 13)).not.toBe(before.recipientTag('idx'));
  });

  it('reads a tag only from a UUIDv8 with the RFC variant, in either case', () => {
    const id = mintChallengeId('0123456789abc');
    expect(id.startsWith('01234567-89ab-8c')).toBe(true);
    expect(recipientTagOf(id)).toBe('0123456789abc');
    expect(recipientTagOf(id.toUpperCase())).toBe('0123456789abc');
    expect(recipientTagOf(randomUUID())).toBeUndefined();
    expect(recipientTagOf(`${id.slice(0, 19)}c${id.slice(20)}`)).toBeUndefined(); // not the RFC variant
    for (const bad of [undefined, null, 42, '', 'not-a-uuid', `${id}0`, id.replace(/-/g, '')]) expect(recipientTagOf(bad)).toBeUndefined();
    expect(() => mintChallengeId('0123456789ABC')).toThrow();
    expect(() => mintChallengeId('0123')).toThrow();
  });
});
