import { randomBytes, randomUUID } from 'node:crypto';
import { mintChallengeId, recipientTagOf, untagChallengeIds, untaggedChallengeId } from './challenge-id';
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

  it('R30: an id at rest is the id with its tag zeroed: still a UUIDv8, its 70 random bits kept, nothing of the tag left', () => {
    const ids = Array.from({ length: 200 }, () => keyring.newChallengeId(alice));
    const atRest = ids.map(untaggedChallengeId);
    for (const [i, id] of atRest.entries()) {
      expect(id).toMatch(/^00000000-0000-80[0-9a-f]{2}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(recipientTagOf(id)).toBe('0000000000000');
      expect(bytesOf(id).subarray(7)).toEqual(bytesOf(ids[i]).subarray(7)); // the random remainder, version and variant
      expect(untaggedChallengeId(id)).toBe(id); // idempotent
      expect(untaggedChallengeId(ids[i].toUpperCase())).toBe(id);
    }
    // Still one per challenge, and the ids of one recipient share nothing beyond the zeros.
    expect(new Set(atRest).size).toBe(ids.length);
    expect(untaggedChallengeId(keyring.newChallengeId(bob)).slice(0, 16)).toBe(atRest[0].slice(0, 16));
  });

  it('leaves anything that is not a UUIDv8 as it is', () => {
    const v4 = randomUUID();
    expect(untaggedChallengeId(v4)).toBe(v4);
    expect(untaggedChallengeId(v4.toUpperCase())).toBe(v4.toUpperCase());
    const id = mintChallengeId('0123456789abc');
    for (const other of ['', 'not-a-uuid', `${id}0`, id.replace(/-/g, ''), `${id.slice(0, 19)}c${id.slice(20)}`]) expect(untaggedChallengeId(other)).toBe(other);
  });

  it('R30: untagChallengeIds zeroes the tag of every UUIDv8 in a text and nothing else', () => {
    const a = mintChallengeId('0123456789abc');
    const b = mintChallengeId('fedcba9876543');
    const v4 = randomUUID();
    const text = `/auth/otp/challenges/${a}/verify ${b.toUpperCase()},${v4} x${a}`;
    expect(untagChallengeIds(text)).toBe(`/auth/otp/challenges/${untaggedChallengeId(a)}/verify ${untaggedChallengeId(b)},${v4} x${untaggedChallengeId(a)}`);
    expect(untagChallengeIds('no ids here')).toBe('no ids here');
    // A longer run of hex digits is no UUID: left as it is.
    expect(untagChallengeIds(`0${a}`)).toBe(`0${a}`);
    expect(untagChallengeIds(`${a}0`)).toBe(`${a}0`);
  });
});
