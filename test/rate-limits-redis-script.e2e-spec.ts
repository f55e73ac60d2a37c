import { createHash } from 'node:crypto';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import Redis from 'ioredis';
import { COUNT_IN_ORDER_LUA, RedisOtpThrottlerStorage } from '../src/otp/rate-limit/redis-throttler-storage';
import { OtpThrottlerHit } from '../src/otp/rate-limit/otp-throttler-storage';
import { startTestRedisServer, TestRedisServer, uniqueKeyPrefix } from './support/test-services';

/** The one-round-trip script of the Redis store, on a redis-server of its own (so command counts are this test's). */
describe('the Redis store counts a request\'s throttlers in one script', () => {
  let server: TestRedisServer;
  let storage: RedisOtpThrottlerStorage;
  let admin: Redis;

  beforeAll(async () => {
    server = await startTestRedisServer();
    storage = RedisOtpThrottlerStorage.connect({ url: server.url });
    await storage.onModuleInit();
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    storage?.onModuleDestroy();
    admin?.disconnect();
    await server?.stop();
  });

  const hit = (key: string, limit: number, throttlerName = 't', ttl = 60_000): OtpThrottlerHit => ({ key, ttl, limit, blockDuration: ttl, throttlerName });
  const calls = async (command: string) => Number(/calls=(\d+)/.exec((await admin.info('commandstats')).split('\n').find((l) => l.startsWith(`cmdstat_${command}:`)) ?? '')?.[1] ?? 0);

  it('one EVALSHA per request, the script loaded once', async () => {
    const p = uniqueKeyPrefix();
    await storage.incrementInOrder([hit(`${p}a`, 5)]);
    const before = { evalsha: await calls('evalsha'), eval: await calls('eval') };
    await storage.incrementInOrder([hit(`${p}a`, 5), hit(`${p}b`, 5), hit(`${p}c`, 5), hit(`${p}d`, 5)]);
    expect({ evalsha: await calls('evalsha'), eval: await calls('eval') }).toEqual({ evalsha: before.evalsha + 1, eval: before.eval });
    const sha = createHash('sha1').update(COUNT_IN_ORDER_LUA).digest('hex');
    expect(await admin.script('EXISTS', sha)).toEqual([1]);
  });

  it('counts exactly as @nest-lab/throttler-storage-redis counts one key at a time (hits, window, block)', async () => {
    const library = new ThrottlerStorageRedisService(new Redis(server.url));
    try {
      const [p, q] = [uniqueKeyPrefix(), uniqueKeyPrefix()];
      for (let i = 0; i < 5; i++) {
        const one = await library.increment(`${p}k`, 60_000, 2, 30_000, 't');
        const [ordered] = await storage.incrementInOrder([{ key: `${q}k`, ttl: 60_000, limit: 2, blockDuration: 30_000, throttlerName: 't' }]);
        expect([ordered.totalHits, ordered.isBlocked, ordered.timeToBlockExpire]).toEqual([one.totalHits, one.isBlocked, one.timeToBlockExpire]);
        expect(Math.abs(ordered.timeToExpire - one.timeToExpire)).toBeLessThanOrEqual(1);
      }
    } finally {
      library.onModuleDestroy();
      (library as unknown as { redis: Redis }).redis.disconnect();
    }
  });

  it('rolling upgrade: counters written one key at a time by the library carry on in the script, and back', async () => {
    const library = new ThrottlerStorageRedisService(new Redis(server.url));
    try {
      const p = uniqueKeyPrefix();
      await library.increment(`${p}k`, 60_000, 3, 60_000, 'recipient');
      await library.increment(`${p}k`, 60_000, 3, 60_000, 'recipient');
      const [third] = await storage.incrementInOrder([hit(`${p}k`, 3, 'recipient')]);
      expect([third.totalHits, third.isBlocked]).toEqual([3, false]);
      const fourth = await library.increment(`${p}k`, 60_000, 3, 60_000, 'recipient');
      expect([fourth.totalHits, fourth.isBlocked]).toEqual([4, true]);
      const [afterBlock] = await storage.incrementInOrder([hit(`${p}k`, 3, 'recipient')]);
      expect(afterBlock.isBlocked).toBe(true);
    } finally {
      (library as unknown as { redis: Redis }).redis.disconnect();
    }
  });

  it('R11: stops at the first refusal: the counters after it are not counted', async () => {
    const p = uniqueKeyPrefix();
    const request = [hit(`${p}recipient`, 1, 'recipient'), hit(`${p}global`, 100, 'global-send')];
    expect((await storage.incrementInOrder(request)).map((r) => r.isBlocked)).toEqual([false, false]);
    for (let i = 0; i < 3; i++) {
      const refused = await storage.incrementInOrder(request);
      expect(refused.map((r) => [r.totalHits, r.isBlocked])).toEqual([[2 + i, true]]);
    }
    expect(await admin.get(`{${p}global:global-send}:hits`)).toBe('1');
  });

  it('R11/R12: 60 requests in parallel (two clients, as two instances) never pass more than the limit, and only passed ones reach the next counter', async () => {
    const other = RedisOtpThrottlerStorage.connect({ url: server.url });
    try {
      await other.onModuleInit();
      const p = uniqueKeyPrefix();
      const request = [hit(`${p}ip`, 10, 'ip-send'), hit(`${p}global`, 1000, 'global-send')];
      const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? storage : other).incrementInOrder(request)));
      expect(answers.filter((records) => !records[records.length - 1].isBlocked)).toHaveLength(10);
      expect(answers.filter((records) => records.length === 2)).toHaveLength(10);
      expect(await admin.get(`{${p}global:global-send}:hits`)).toBe('10');
    } finally {
      other.onModuleDestroy();
    }
  });

  it('fails closed: with the server gone the ordered count rejects at once', async () => {
    const own = await startTestRedisServer();
    const s = RedisOtpThrottlerStorage.connect({ url: own.url });
    try {
      await s.onModuleInit();
      await s.incrementInOrder([hit(`${uniqueKeyPrefix()}k`, 5)]);
      await own.stop();
      await expect(s.incrementInOrder([hit(`${uniqueKeyPrefix()}k`, 5)])).rejects.toBeInstanceOf(Error);
    } finally {
      s.onModuleDestroy();
      await own.stop();
    }
  });
});
