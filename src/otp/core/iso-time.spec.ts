import { isoTime } from './iso-time';

describe('isoTime', () => {
  it('is toISOString: the same text for every millisecond of a second, across seconds, days, leap days and years', () => {
    const starts = [Date.UTC(2026, 11, 2, 16, 59, 59), Date.UTC(2024, 1, 29, 23, 59, 59), Date.UTC(1999, 11, 31, 23, 59, 59), 0, -1000, Date.UTC(1969, 11, 31, 23, 59, 58)];
    for (const start of starts) {
      for (let t = start - 1500; t < start + 2500; t += 7) {
        expect(isoTime(new Date(t))).toBe(new Date(t).toISOString());
      }
    }
  });

  it('is toISOString for times the cache holds in other slots, and for random times in the whole range of Date', () => {
    const now = Date.now();
    for (let i = 0; i < 20_000; i++) {
      const t = i % 2 ? now + Math.floor(Math.random() * 3_600_000) : Math.floor((Math.random() * 2 - 1) * 8.64e15);
      expect(isoTime(new Date(t))).toBe(new Date(t).toISOString());
    }
  });

  it('is toISOString for years that take six digits and a sign, and at the ends of the range', () => {
    for (const t of [Date.UTC(10000, 0, 1), Date.UTC(-1, 0, 1), 8.64e15, -8.64e15, Date.UTC(9999, 11, 31, 23, 59, 59, 999)]) {
      expect(isoTime(new Date(t))).toBe(new Date(t).toISOString());
      expect(isoTime(new Date(t))).toBe(new Date(t).toISOString());
    }
  });

  it('throws the RangeError toISOString throws for an invalid date', () => {
    expect(() => isoTime(new Date(NaN))).toThrow(RangeError);
    expect(() => isoTime(new Date('not a date'))).toThrow(RangeError);
  });
});
