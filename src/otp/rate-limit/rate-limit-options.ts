import type { ThrottlerStorage } from '@nestjs/throttler';
import { isLoopbackHost } from '../net/loopback';
import { OtpConfigError } from '../core/otp.errors';

/** One limit: at most `limit` requests per `ttlSeconds`, then 429 until the window ends. */
export interface OtpRateLimit {
  limit: number;
  ttlSeconds: number;
}

/**
 * Where the counters live when no `storage` is given.
 * `url` is `redis://` or `rediss://` (TLS, certificate checked against the system CAs or `ca`).
 */
export interface OtpRateLimitRedisOptions {
  url: string;
  /** Extra CA certificates (PEM) trusted for `rediss://`. Certificate checks are never turned off. */
  ca?: string | Buffer;
  /**
   * Milliseconds a Redis command may take before the request is refused (fail closed).
   * @default 1000
   */
  commandTimeoutMs?: number;
}

/**
 * The named throttlers of the OTP routes. Every one keys on something the
 * client cannot choose, and treats unknown addresses exactly as known ones.
 */
export interface OtpRateLimitOptions {
  /**
   * Issue and resend per client IP (IPv6 grouped by `ipv6SubnetPrefix`). Env `RATE_LIMIT_IP_SEND`.
   * @default { limit: 10, ttlSeconds: 60 }
   */
  ipSend?: Partial<OtpRateLimit>;
  /**
   * Verify per client IP. Env `RATE_LIMIT_IP_VERIFY`.
   * @default { limit: 30, ttlSeconds: 60 }
   */
  ipVerify?: Partial<OtpRateLimit>;
  /**
   * Issue and resend per recipient (blind index of the canonical address) and purpose,
   * so a sign-in code and a transfer code can be asked at once. Env `RATE_LIMIT_RECIPIENT`.
   * @default { limit: 1, ttlSeconds: 60 }
   */
  recipient?: Partial<OtpRateLimit>;
  /**
   * Issue and resend per recipient across all purposes. Env `RATE_LIMIT_RECIPIENT_DAILY`.
   * @default { limit: 20, ttlSeconds: 86400 }
   */
  recipientDaily?: Partial<OtpRateLimit>;
  /**
   * Verify per recipient (read from the challenge) and client IP together.
   * Env `RATE_LIMIT_VERIFY_RECIPIENT_IP`.
   * @default { limit: 10, ttlSeconds: 600 }
   */
  verifyRecipientIp?: Partial<OtpRateLimit>;
  /**
   * Issue and resend per client network (IPv4 /24, IPv6 /48), counted after the
   * per-recipient limits and before the global budget, so many addresses of one
   * network cannot spend everyone's budget. Sends without an `ip` share one network.
   * Env `RATE_LIMIT_NETWORK_SEND`.
   * @default { limit: 30, ttlSeconds: 60 }
   */
  networkSend?: Partial<OtpRateLimit>;
  /**
   * Mails sent by the whole deployment (issue and resend), counted only for requests
   * that passed every per-IP, per-recipient and per-network limit, so one noisy
   * recipient or network cannot spend everyone's budget. Env `RATE_LIMIT_GLOBAL_SEND`.
   * @default { limit: 600, ttlSeconds: 60 }
   */
  globalSend?: Partial<OtpRateLimit>;
  /**
   * Operator routes (`/metrics`, `/admin/otp/audit/*`) per client IP,
   * counted before the operator token is checked, so a client guessing tokens is slowed too.
   * Env `RATE_LIMIT_OPERATOR`.
   * @default { limit: 30, ttlSeconds: 60 }
   */
  operator?: Partial<OtpRateLimit>;
  /**
   * IPv6 clients are counted per network of this prefix length (one host usually owns a /64).
   * Env `RATE_LIMIT_IPV6_PREFIX`.
   * @default 64
   */
  ipv6SubnetPrefix?: number;
  /**
   * Counters in Redis, shared by every instance. Without `redis` or `storage` the
   * counters are in this process's memory: correct for a single instance only.
   * When Redis cannot answer, OTP requests are refused with 503 (fail closed). Env `REDIS_URL`.
   * @default undefined (in memory)
   */
  redis?: OtpRateLimitRedisOptions;
  /**
   * Any other `@nestjs/throttler` storage; takes precedence over `redis`. One that also
   * implements `incrementInOrder` (`OtpOrderedThrottlerStorage`) counts a request's
   * throttlers in one call; one with only `increment` is counted one key at a time.
   * @default undefined
   */
  storage?: ThrottlerStorage;
  /**
   * Counters the in-memory store (neither `redis` nor `storage` set) holds at most. A request
   * that needs a new counter beyond it is refused with 503 `otp_unavailable` (fail closed) and
   * the event `rate_limit.store_full`; no counter is ever evicted to make room, so filling the
   * store cannot reset anyone's limits (docs/rate-limits.md). About 200 bytes each.
   * @default 500000
   */
  memoryMaxKeys?: number;
  /**
   * Prefix of every counter key (use one per deployment, or per test run on a shared Redis).
   * Env `RATE_LIMIT_KEY_PREFIX`.
   * @default 'otp:rl:'
   */
  keyPrefix?: string;
}

export type OtpThrottlerName = 'ip-send' | 'ip-verify' | 'recipient' | 'recipient-daily' | 'verify-recipient-ip' | 'network-send'
  | 'global-send' | 'operator';

/** Rate-limit options after defaults and checks. */
export interface ResolvedOtpRateLimits {
  limits: Record<OtpThrottlerName, OtpRateLimit>;
  ipv6SubnetPrefix: number;
  redis?: OtpRateLimitRedisOptions;
  storage?: ThrottlerStorage;
  keyPrefix: string;
  memoryMaxKeys: number;
}

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

/** Default of `rateLimits.memoryMaxKeys`. */
export const DEFAULT_MEMORY_MAX_KEYS = 500_000;

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
    memoryMaxKeys: checked('memoryMaxKeys', options.memoryMaxKeys ?? DEFAULT_MEMORY_MAX_KEYS, 1000, 100_000_000),
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
