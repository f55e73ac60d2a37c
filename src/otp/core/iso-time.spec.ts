import { isoTime } from './iso-time';

describe('isoTime', () => {
  it('is toISOString: the same text for every millisecond around second, day, leap-day and year boundaries', () => {
    const starts = [Date.UTC(2026, 11, 2, 16, 59, 59), Date.UTC(2024, 1, 29, 23, 59, 59), Date.UTC(1999, 11, 31, 23, 59, 59), 0, -1000, Date.UTC(1969, 11, 31, 23, 59, 58)];
    for (const start of starts) {
      for (let t = start - 1500; t < start + 2500; t++) {
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

  it('is toISOString when a request formats now and its expiries in turn (seconds that share a slot modulo 8: 600 s, 60 s, 300 s ahead)', () => {
    const now = Date.UTC(2026, 11, 2, 17, 40, 0, 123);
    for (let i = 0; i < 3000; i++) {
      const t = now + i * 3;
      for (const ahead of [0, 600_000, 60_000, 300_000, 0]) expect(isoTime(new Date(t + ahead))).toBe(new Date(t + ahead).toISOString());
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
