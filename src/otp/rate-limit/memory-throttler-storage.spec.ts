import { OtpMemoryThrottlerStorage, OtpRateLimitStoreFullError } from './memory-throttler-storage';
import { OtpThrottlerHit } from './otp-throttler-storage';

/** The in-memory store, on an injected clock: the Redis store's fixed windows, one pass per request, bounded. */
describe('OtpMemoryThrottlerStorage', () => {
  let now: number;
  let store: OtpMemoryThrottlerStorage;
  const make = (maxKeys = 1000) => (store = new OtpMemoryThrottlerStorage({ maxKeys, now: () => now, sweepIntervalMs: 3_600_000 }));
  const hit = (key: string, limit = 2, ttl = 60_000, throttlerName = 't'): OtpThrottlerHit => ({ key, ttl, limit, blockDuration: ttl, throttlerName });
  const sweep = () => (store as unknown as { sweepSome(budget: number, now: number): void }).sweepSome(Infinity, now);

  beforeEach(() => {
    now = 1_700_000_000_000;
    make();
  });
  afterEach(() => store.onModuleDestroy());

  it('counts a fixed window from its first hit, blocks the hit over the limit for blockDuration, and starts afresh after both', async () => {
    expect(await store.increment('k', 60_000, 2, 60_000, 't')).toEqual({ totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 });
    now += 20_000;
    expect(await store.increment('k', 60_000, 2, 60_000, 't')).toEqual({ totalHits: 2, timeToExpire: 40, isBlocked: false, timeToBlockExpire: 0 });
    now += 10_000;
    expect(await store.increment('k', 60_000, 2, 60_000, 't')).toEqual({ totalHits: 3, timeToExpire: 30, isBlocked: true, timeToBlockExpire: 60 });
    // The window ends at +60 s, the block at +90 s: in between a new window counts, still refused.
    now += 35_000;
    expect(await store.increment('k', 60_000, 2, 60_000, 't')).toEqual({ totalHits: 1, timeToExpire: 60, isBlocked: true, timeToBlockExpire: 25 });
    now += 26_000;
    expect(await store.increment('k', 60_000, 2, 60_000, 't')).toEqual({ totalHits: 2, timeToExpire: 34, isBlocked: false, timeToBlockExpire: 0 });
  });

  it('keeps counters apart per key and per throttler name', async () => {
    await store.increment('k', 60_000, 1, 60_000, 'a');
    expect((await store.increment('k', 60_000, 1, 60_000, 'b')).isBlocked).toBe(false);
    expect((await store.increment('other', 60_000, 1, 60_000, 'a')).isBlocked).toBe(false);
    expect((await store.increment('k', 60_000, 1, 60_000, 'a')).isBlocked).toBe(true);
  });

  it('R11: counts an ordered list in one pass and stops at the first refusal: the counters after it are not counted', async () => {
    await store.incrementInOrder([hit('first', 1), hit('second', 5)]);
    const refused = await store.incrementInOrder([hit('first', 1), hit('second', 5)]);
    expect(refused.map((r) => [r.totalHits, r.isBlocked])).toEqual([[2, true]]);
    const counted = await store.incrementInOrder([hit('second', 5)]);
    expect(counted[0].totalHits).toBe(2);
  });

  it('R11: at maxKeys a request needing a new counter is refused whole (nothing counted) and no existing counter is evicted', async () => {
    make(1000);
    for (let i = 0; i < 999; i++) await store.increment(`victim-${i}`, 86_400_000, 1, 86_400_000, 'daily');
    expect(store.size).toBe(999);
    // One free: a request needing two new counters is refused, and counts neither.
    await expect(store.incrementInOrder([hit('shared'), hit('fresh')])).rejects.toEqual(new OtpRateLimitStoreFullError(999, 1000));
    expect(store.size).toBe(999);
    await store.increment('shared', 60_000, 5, 60_000, 't');
    await expect(store.increment('another', 60_000, 5, 60_000, 't')).rejects.toBeInstanceOf(OtpRateLimitStoreFullError);
    // Every victim's counter is still there, still blocking.
    for (let i = 0; i < 999; i++) expect((await store.increment(`victim-${i}`, 86_400_000, 1, 86_400_000, 'daily')).isBlocked).toBe(true);
    // Counters already held keep counting at the bound.
    expect((await store.increment('shared', 60_000, 5, 60_000, 't')).totalHits).toBe(2);
  });

  it('at maxKeys, expired counters are swept to make room (a full sweep at most once a second)', async () => {
    make(1000);
    for (let i = 0; i < 1000; i++) await store.increment(`short-${i}`, 1_000, 5, 1_000, 't');
    await expect(store.increment('new', 1_000, 5, 1_000, 't')).rejects.toBeInstanceOf(OtpRateLimitStoreFullError);
    now += 1_000;
    expect((await store.increment('new', 1_000, 5, 1_000, 't')).totalHits).toBe(1);
    expect(store.size).toBe(1);
  });

  it('a blocked counter is kept until its block ends, even when its window is over', async () => {
    await store.increment('k', 1_000, 1, 10_000, 't');
    await store.increment('k', 1_000, 1, 10_000, 't');
    now += 5_000;
    sweep();
    expect(store.size).toBe(1);
    now += 5_000;
    sweep();
    expect(store.size).toBe(0);
  });

  it('the sweeper frees the slots of expired counters for reuse: memory follows live keys, not hits', async () => {
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 800; i++) await store.increment(`r${round}-${i}`, 60_000, 20, 60_000, 't');
      now += 60_000;
      sweep();
      expect(store.size).toBe(0);
    }
    const slab = (store as unknown as { slab: Float64Array }).slab;
    expect(slab.length).toBe(1024 * 3);
  });

  it('a key repeated within one request needs one new counter, and counts twice', async () => {
    make(1000);
    for (let i = 0; i < 999; i++) await store.increment(`k${i}`, 60_000, 5, 60_000, 't');
    const records = await store.incrementInOrder([hit('dup', 5), hit('dup', 5)]);
    expect(records.map((r) => r.totalHits)).toEqual([1, 2]);
  });
});
