import { once } from 'node:events';
import { isIP } from 'node:net';
import { Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type Redis from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { OtpConfigError } from '../core/otp.errors';
import { OtpRateLimitRedisOptions } from './rate-limit-options';

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
export class RedisOtpThrottlerStorage implements ThrottlerStorage, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('OtpRateLimit');
  private readonly inner: ThrottlerStorageRedisService;
  private down = false;

  constructor(readonly client: Redis) {
    const { ThrottlerStorageRedisService: Storage } = optionalPeer<typeof import('@nest-lab/throttler-storage-redis')>('@nest-lab/throttler-storage-redis');
    this.inner = new Storage(client);
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
