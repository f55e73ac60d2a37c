import { rateLimitsFromEnv } from '../../app/rate-limit.config';
import { OtpConfigError } from '../core/otp.errors';
import { DEFAULT_RATE_LIMITS, resolveRateLimits } from './rate-limit-options';

describe('rate-limit options', () => {
  it('defaults to the documented secure limits, in memory, under otp:rl:', () => {
    const r = resolveRateLimits();
    expect(r.limits).toEqual(DEFAULT_RATE_LIMITS);
    expect(r.limits.recipient).toEqual({ limit: 1, ttlSeconds: 60 });
    expect(r.limits['recipient-daily']).toEqual({ limit: 20, ttlSeconds: 86_400 });
    expect(r.limits['network-send']).toEqual({ limit: 30, ttlSeconds: 60 });
    expect(r).toMatchObject({ ipv6SubnetPrefix: 64, keyPrefix: 'otp:rl:', redis: undefined, storage: undefined });
  });

  it('takes partial overrides and refuses limits that cannot work', () => {
    expect(resolveRateLimits({ ipSend: { limit: 3 } }).limits['ip-send']).toEqual({ limit: 3, ttlSeconds: 60 });
    expect(() => resolveRateLimits({ recipient: { limit: 0 } })).toThrow(OtpConfigError);
    expect(() => resolveRateLimits({ globalSend: { ttlSeconds: 1.5 } })).toThrow(OtpConfigError);
    expect(() => resolveRateLimits({ ipv6SubnetPrefix: 16 })).toThrow(OtpConfigError);
    expect(() => resolveRateLimits({ keyPrefix: 'has space' })).toThrow(OtpConfigError);
    expect(() => resolveRateLimits({ redis: { url: 'http://127.0.0.1:6379' } })).toThrow(OtpConfigError);
  });

  it('R2: in production a Redis off this host must be rediss://; a local one may stay plain', () => {
    expect(() => resolveRateLimits({ redis: { url: 'redis://cache.internal:6379' } }, true)).toThrow(/rediss:\/\//);
    expect(resolveRateLimits({ redis: { url: 'rediss://cache.internal:6379' } }, true).redis?.url).toBe('rediss://cache.internal:6379');
    expect(resolveRateLimits({ redis: { url: 'redis://127.0.0.1:6379' } }, true).redis?.url).toBe('redis://127.0.0.1:6379');
    expect(resolveRateLimits({ redis: { url: 'redis://cache.internal:6379' } }, false).redis?.url).toBe('redis://cache.internal:6379');
  });

  it('reads limit/seconds pairs and Redis from the environment', () => {
    const o = rateLimitsFromEnv({ RATE_LIMIT_IP_SEND: '5/30', RATE_LIMIT_NETWORK_SEND: '50/120', RATE_LIMIT_GLOBAL_SEND: ' 100 / 60 ', REDIS_URL: 'rediss://r.internal:6380', RATE_LIMIT_KEY_PREFIX: 'app1:' });
    expect(o.ipSend).toEqual({ limit: 5, ttlSeconds: 30 });
    expect(o.globalSend).toEqual({ limit: 100, ttlSeconds: 60 });
    expect(o.networkSend).toEqual({ limit: 50, ttlSeconds: 120 });
    expect(o.recipient).toBeUndefined();
    expect(o.redis).toEqual({ url: 'rediss://r.internal:6380', ca: undefined });
    expect(o.keyPrefix).toBe('app1:');
    expect(() => rateLimitsFromEnv({ RATE_LIMIT_RECIPIENT: '1 per minute' })).toThrow(/limit\/seconds/);
  });
});

describe('the operator throttler', () => {
  it('operator routes get a per-IP throttler `operator`, 30 per 60 s by default, set by RATE_LIMIT_OPERATOR', () => {
    expect(resolveRateLimits().limits.operator).toEqual({ limit: 30, ttlSeconds: 60 });
    expect(resolveRateLimits({ operator: { limit: 5 } }).limits.operator).toEqual({ limit: 5, ttlSeconds: 60 });
    expect(() => resolveRateLimits({ operator: { limit: 0 } })).toThrow(/rateLimits\.operator\.limit/);
    expect(rateLimitsFromEnv({ RATE_LIMIT_OPERATOR: '12/120' }).operator).toEqual({ limit: 12, ttlSeconds: 120 });
    expect(() => rateLimitsFromEnv({ RATE_LIMIT_OPERATOR: 'lots' })).toThrow(/RATE_LIMIT_OPERATOR must look like "limit\/seconds"/);
  });
});

describe('the in-memory store\'s bound', () => {
  it('memoryMaxKeys defaults to 500,000, is set by RATE_LIMIT_MEMORY_MAX_KEYS, and is refused at boot outside 1,000-100,000,000', () => {
    expect(resolveRateLimits().memoryMaxKeys).toBe(500_000);
    expect(resolveRateLimits(rateLimitsFromEnv({ RATE_LIMIT_MEMORY_MAX_KEYS: '2000' })).memoryMaxKeys).toBe(2000);
    for (const bad of [999, 100_000_001, 1.5, Number.NaN]) {
      expect(() => resolveRateLimits({ memoryMaxKeys: bad })).toThrow(/rateLimits\.memoryMaxKeys must be an integer from 1000 to 100000000/);
    }
  });
});
