import { once } from 'node:events';
import { isIP } from 'node:net';
import { Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type Redis from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { OtpConfigError } from '../core/otp.errors';
import { OtpRateLimitRedisOptions } from './rate-limit-options';
import { OtpOrderedThrottlerStorage, OtpThrottlerHit } from './otp-throttler-storage';

/**
 * The Redis storage is an optional peer of the package (`@nest-lab/throttler-storage-redis` and
 * `ioredis`): loaded only when `rateLimits.redis` is set, with a start-up error naming them.
 */
function optionalPeer<T>(name: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    throw new OtpConfigError(`rateLimits.redis needs the optional peers: npm install @nest-lab/throttler-storage-redis ioredis (${name} is missing)`);
  }
}

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * `@nest-lab/throttler-storage-redis`'s script, looped over the counters of one request in order
 * and stopped after the first refusal (the ones after it are not counted). Same keys
 * (`{key:name}:hits`, `{key:name}:blocked`) and same arithmetic, so counters carry over between
 * instances counting one key at a time and instances counting in order (a rolling upgrade).
 * KEYS: hits and blocked key per counter; ARGV: ttl, limit, blockDuration (ms) per counter.
 * Returns totalHits, timeToExpire (ms), isBlocked (0/1), timeToBlockExpire (ms) per counted counter.
 */
export const COUNT_IN_ORDER_LUA = `
local out = {}
for i = 1, #KEYS / 2 do
  local hitKey = KEYS[2 * i - 1]
  local blockKey = KEYS[2 * i]
  local ttl = tonumber(ARGV[3 * i - 2])
  local limit = tonumber(ARGV[3 * i - 1])
  local blockDuration = tonumber(ARGV[3 * i])
  local totalHits = redis.call('INCR', hitKey)
  local timeToExpire = redis.call('PTTL', hitKey)
  if timeToExpire <= 0 then
    redis.call('PEXPIRE', hitKey, ttl)
    timeToExpire = ttl
  end
  local isBlocked = redis.call('GET', blockKey)
  local timeToBlockExpire = 0
  if isBlocked then
    timeToBlockExpire = redis.call('PTTL', blockKey)
  elseif totalHits > limit then
    redis.call('SET', blockKey, 1, 'PX', blockDuration)
    isBlocked = '1'
    timeToBlockExpire = blockDuration
  end
  if isBlocked and timeToBlockExpire <= 0 then
    redis.call('DEL', blockKey)
    redis.call('SET', hitKey, 1, 'PX', ttl)
    totalHits = 1
    timeToExpire = ttl
    isBlocked = false
  end
  out[#out + 1] = totalHits
  out[#out + 1] = timeToExpire
  out[#out + 1] = isBlocked and 1 or 0
  out[#out + 1] = timeToBlockExpire
  if isBlocked then break end
end
return out
`;

type OrderedCountClient = Redis & { otpCountInOrder(numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown> };

/**
 * ioredis settings for counters that must fail closed: no offline queue (a
 * command while disconnected fails at once instead of waiting), a command
 * timeout, endless reconnects in the background, and for `rediss://` TLS 1.2+
 * with the server certificate always checked (`rejectUnauthorized` is left at true).
 */
export function redisClientOptions(options: OtpRateLimitRedisOptions): RedisOptions {
  const url = new URL(options.url);
  const tls = url.protocol === 'rediss:'
    ? {
      minVersion: 'TLSv1.2' as const,
      // SNI takes names only; the certificate is checked against the host either way.
      ...(isIP(url.hostname.replace(/^\[|\]$/g, '')) ? {} : { servername: url.hostname }),
      ...(options.ca ? { ca: options.ca } : {}),
    }
    : undefined;
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 1000,
    connectTimeout: 2000,
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
    ...(tls ? { tls } : {}),
  };
}

/**
 * `@nest-lab/throttler-storage-redis` on a client this module owns: counters
 * shared by every instance, refused (thrown) when Redis cannot answer.
 */
export class RedisOtpThrottlerStorage implements OtpOrderedThrottlerStorage, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('OtpRateLimit');
  private readonly inner: ThrottlerStorageRedisService;
  private down = false;

  constructor(readonly client: Redis) {
    const { ThrottlerStorageRedisService: Storage } = optionalPeer<typeof import('@nest-lab/throttler-storage-redis')>('@nest-lab/throttler-storage-redis');
    this.inner = new Storage(client);
    // EVALSHA of the loaded script (ioredis sends the source once, and again after a NOSCRIPT).
    if (!('otpCountInOrder' in client)) client.defineCommand('otpCountInOrder', { lua: COUNT_IN_ORDER_LUA });
    client.on('error', (err: Error) => {
      if (!this.down) this.logger.error(`Redis for rate limits is unreachable (${err.name}); OTP requests are refused until it is back`);
      this.down = true;
    });
    client.on('ready', () => {
      if (this.down) this.logger.log('Redis for rate limits is back');
      this.down = false;
    });
  }

  static connect(options: OtpRateLimitRedisOptions): RedisOtpThrottlerStorage {
    const { default: RedisClient } = optionalPeer<typeof import('ioredis')>('ioredis');
    return new RedisOtpThrottlerStorage(new RedisClient(options.url, redisClientOptions(options)));
  }

  increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    return this.inner.increment(key, ttl, limit, blockDuration, throttlerName);
  }

  /** Counts `hits` in order in one round trip (one script), stopping after the first refusal. */
  async incrementInOrder(hits: readonly OtpThrottlerHit[]): Promise<ThrottlerStorageRecord[]> {
    if (hits.length === 0) return [];
    const keys: string[] = [];
    const args: number[] = [];
    for (const h of hits) {
      keys.push(`{${h.key}:${h.throttlerName}}:hits`, `{${h.key}:${h.throttlerName}}:blocked`);
      args.push(h.ttl, h.limit, h.blockDuration);
    }
    const out = await (this.client as OrderedCountClient).otpCountInOrder(keys.length, ...keys, ...args);
    if (!Array.isArray(out) || out.length % 4 !== 0 || out.length === 0 || out.length > hits.length * 4 || !out.every((v) => typeof v === 'number')) {
      throw new TypeError('unexpected answer of the rate-limit script');
    }
    const records: ThrottlerStorageRecord[] = [];
    for (let i = 0; i < out.length; i += 4) {
      records.push({ totalHits: out[i], timeToExpire: Math.ceil(out[i + 1] / 1000), isBlocked: out[i + 2] === 1, timeToBlockExpire: Math.ceil(out[i + 3] / 1000) });
    }
    return records;
  }

  /** Waits (at most 2 s, or until the first error) for the first connection; never fails start-up. */
  async onModuleInit(): Promise<void> {
    if (this.client.status === 'ready') return;
    const timer = new AbortController();
    const deadline = setTimeout(() => timer.abort(), 2000);
    try {
      await Promise.race([once(this.client, 'ready', { signal: timer.signal }), once(this.client, 'error', { signal: timer.signal })]);
    } catch {
      // deadline passed
    } finally {
      timer.abort();
      clearTimeout(deadline);
    }
    if ((this.client.status as string) !== 'ready') this.logger.error('Redis for rate limits did not answer at start-up; OTP requests are refused until it does');
  }

  onModuleDestroy(): void {
    this.client.disconnect(false);
  }
}
