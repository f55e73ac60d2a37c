import { createHash } from 'node:crypto';
import { sha256, sha256ByHashObject } from './sha256';

describe('sha256', () => {
  const inputs: (string | Buffer)[] = ['', 'abc', 'ключ é 🙂', 'x'.repeat(10_000), Buffer.from([0, 1, 2, 255]), Buffer.alloc(0)];

  it.each(['hex', 'base64', 'base64url'] as const)('gives createHash\'s digest, %s, for strings (UTF-8) and buffers', (encoding) => {
    for (const data of inputs) {
      const expected = createHash('sha256').update(data).digest(encoding);
      expect(sha256(data, encoding)).toBe(expected);
      expect(sha256ByHashObject(data, encoding)).toBe(expected);
    }
  });

  it('falls back to a Hash object where Node has no crypto.hash (20.11)', () => {
    jest.isolateModules(() => {
      jest.doMock('node:crypto', () => ({ ...jest.requireActual('node:crypto'), hash: undefined }));
      const fallback = require('./sha256') as typeof import('./sha256');
      expect(fallback.sha256).toBe(fallback.sha256ByHashObject);
      expect(fallback.sha256('abc', 'hex')).toBe(createHash('sha256').update('abc').digest('hex'));
    });
    jest.dontMock('node:crypto');
  });
});
