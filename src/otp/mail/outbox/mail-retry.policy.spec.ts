import { mailBackoffMs } from './mail-retry.policy';

describe('mailBackoffMs: the retry policy of the outbox', () => {
  it('backs off exponentially with jitter in [0.5, 1.5) of the step, capped', () => {
    const backoffMs = (attempt: number) => mailBackoffMs(attempt, { baseMs: 1000, maxMs: 60_000 });
    for (let i = 0; i < 200; i++) {
      const first = backoffMs(1);
      expect(first).toBeGreaterThanOrEqual(500);
      expect(first).toBeLessThan(1500);
      const fourth = backoffMs(4);
      expect(fourth).toBeGreaterThanOrEqual(4000);
      expect(fourth).toBeLessThan(12_000);
      expect(backoffMs(30)).toBeLessThan(90_000);
    }
    expect(new Set(Array.from({ length: 50 }, () => backoffMs(3))).size).toBeGreaterThan(10);
  });

  it('is the exact step times (0.5 + jitter), floored, and never reaches 1.5 x the step', () => {
    const retry = { baseMs: 1000, maxMs: 60_000 };
    expect(mailBackoffMs(1, retry, 0)).toBe(500);
    expect(mailBackoffMs(3, retry, 0.5)).toBe(4000);
    expect(mailBackoffMs(3, retry, 0.999999)).toBe(5999);
    expect(mailBackoffMs(0, retry, 0.5)).toBe(1000); // attempt 0 is treated as the first
    expect(mailBackoffMs(1_000, retry, 0.5)).toBe(60_000); // capped, no overflow
  });
});
