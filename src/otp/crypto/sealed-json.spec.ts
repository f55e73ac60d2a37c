import { randomBytes, randomUUID } from 'node:crypto';
import { OtpCipher } from './otp-cipher';
import { openJson, sealJson, tryOpenJson } from './sealed-json';

describe('sealed JSON (one home for every sealed payload)', () => {
  const cipher = new OtpCipher([{ id: 'k1', secret: randomBytes(32) }]);
  const value = { to: 'a@example.com', code: '123456', nested: { n: 1 } };

  it('R30: round-trips a JSON value bound to its row, and the plaintext is not visible', () => {
    const id = randomUUID();
    const sealed = sealJson(cipher, value, id);
    expect(sealed).not.toContain('a@example.com');
    expect(openJson(cipher, sealed, id)).toEqual(value);
  });

  it('a payload copied to another row does not open there', () => {
    const sealed = sealJson(cipher, value, randomUUID());
    expect(() => openJson(cipher, sealed, randomUUID())).toThrow();
    expect(tryOpenJson(cipher, sealed, randomUUID())).toBeUndefined();
  });

  it('a payload under a key this instance lacks, or altered, does not open', () => {
    const id = randomUUID();
    const other = new OtpCipher([{ id: 'k2', secret: randomBytes(32) }]);
    expect(tryOpenJson(other, sealJson(cipher, value, id), id)).toBeUndefined();
    const sealed = sealJson(cipher, value, id);
    const [kid, iv, body, tag] = sealed.split('.');
    const flipped = Buffer.from(body, 'base64url');
    flipped[0] ^= 1;
    expect(tryOpenJson(cipher, [kid, iv, flipped.toString('base64url'), tag].join('.'), id)).toBeUndefined();
    expect(tryOpenJson(cipher, sealed, id)).toEqual(value);
  });
});
