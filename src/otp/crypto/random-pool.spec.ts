import { randomBytesPooled } from './random-pool';

describe('randomBytesPooled', () => {
  it('returns the requested number of bytes, each call its own buffer', () => {
    const a = randomBytesPooled(16);
    const b = randomBytesPooled(16);
    expect(a).toHaveLength(16);
    expect(b).toHaveLength(16);
    expect(a.buffer === b.buffer && a.byteOffset === b.byteOffset).toBe(false);
    a.fill(0);
    expect(b.equals(Buffer.alloc(16))).toBe(false);
  });

  it('never hands out the same bytes twice, across refills of the pool', () => {
    // 12-byte values (an IV's size) across more than ten refills of the 4 KB pool.
    const seen = new Set<string>();
    for (let i = 0; i < 4000; i++) seen.add(randomBytesPooled(12).toString('hex'));
    expect(seen.size).toBe(4000);
  });

  it('looks uniformly random: every byte value occurs, none dominates', () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 2048; i++) for (const byte of randomBytesPooled(16)) counts[byte]++;
    // 32,768 bytes: 128 expected per value; a stuck or zeroed pool would fail both bounds.
    expect(Math.min(...counts)).toBeGreaterThan(60);
    expect(Math.max(...counts)).toBeLessThan(220);
  });

  it('serves large requests from the CSPRNG directly and refuses a bad length', () => {
    expect(randomBytesPooled(1000)).toHaveLength(1000);
    expect(randomBytesPooled(0)).toHaveLength(0);
    expect(() => randomBytesPooled(-1)).toThrow(RangeError);
    expect(() => randomBytesPooled(1.5)).toThrow(RangeError);
  });
});
