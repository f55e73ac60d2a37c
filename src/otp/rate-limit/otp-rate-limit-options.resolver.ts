import { isLoopbackHost } from '../net/loopback';
import { OtpConfigError } from '../otp.errors';
import {
  OtpRateLimit,
  OtpRateLimitOptions,
  OtpThrottlerName,
  ResolvedOtpRateLimits,
} from './otp-rate-limit-options.interface';

export const DEFAULT_RATE_LIMITS: Record<OtpThrottlerName, OtpRateLimit> = {
  'ip-send': { limit: 10, ttlSeconds: 60 },
  'ip-verify': { limit: 30, ttlSeconds: 60 },
  recipient: { limit: 1, ttlSeconds: 60 },
  'recipient-daily': { limit: 20, ttlSeconds: 86_400 },
  'verify-recipient-ip': { limit: 10, ttlSeconds: 600 },
  'network-send': { limit: 30, ttlSeconds: 60 },
  'global-send': { limit: 600, ttlSeconds: 60 },
  operator: { limit: 30, ttlSeconds: 60 },
};

const OPTION_OF: Record<OtpThrottlerName, keyof OtpRateLimitOptions> = {
  'ip-send': 'ipSend',
  'ip-verify': 'ipVerify',
  recipient: 'recipient',
  'recipient-daily': 'recipientDaily',
  'verify-recipient-ip': 'verifyRecipientIp',
  'network-send': 'networkSend',
  'global-send': 'globalSend',
  operator: 'operator',
};

function checked(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new OtpConfigError(`rateLimits.${name} must be an integer from ${min} to ${max} (got ${String(value)})`);
  }
  return value;
}

/** Applies the secure defaults and refuses limits that cannot work. */
export function resolveRateLimits(options: OtpRateLimitOptions = {}, production = false): ResolvedOtpRateLimits {
  const limits = {} as Record<OtpThrottlerName, OtpRateLimit>;
  for (const name of Object.keys(DEFAULT_RATE_LIMITS) as OtpThrottlerName[]) {
    const option = OPTION_OF[name];
    const given = (options[option] ?? {}) as Partial<OtpRateLimit>;
    limits[name] = {
      limit: checked(`${option}.limit`, given.limit ?? DEFAULT_RATE_LIMITS[name].limit, 1, 1_000_000),
      ttlSeconds: checked(`${option}.ttlSeconds`, given.ttlSeconds ?? DEFAULT_RATE_LIMITS[name].ttlSeconds, 1, 7 * 86_400),
    };
  }
  const keyPrefix = options.keyPrefix ?? 'otp:rl:';
  if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(keyPrefix)) throw new OtpConfigError('rateLimits.keyPrefix must be 1-64 characters of [A-Za-z0-9:_.-]');
  if (options.redis && !/^rediss?:\/\//.test(options.redis.url)) {
    throw new OtpConfigError('rateLimits.redis.url must start with redis:// or rediss://');
  }
  // R2: counters cross the network in production only over TLS (a Redis on this host may stay plain).
  if (production && options.redis && !options.redis.url.startsWith('rediss://') && !isLoopbackUrl(options.redis.url)) {
    throw new OtpConfigError('REDIS_URL must use rediss:// (TLS with certificate checks) in production unless Redis is on this host');
  }
  return {
    limits,
    ipv6SubnetPrefix: checked('ipv6SubnetPrefix', options.ipv6SubnetPrefix ?? 64, 32, 128),
    redis: options.redis,
    storage: options.storage,
    keyPrefix,
  };
}

/** True for URLs whose host is this machine. */
export function isLoopbackUrl(url: string): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}
