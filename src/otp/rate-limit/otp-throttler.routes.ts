import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ThrottlerOptions } from '@nestjs/throttler';
import { OTP_RATE_LIMIT_SCOPE, OtpRateLimitScope } from './otp-rate-limit.decorator';

/** The throttlers `OtpThrottlerGuard` counts: what only an HTTP request has (its IP, a verify's challenge id). */
export type GuardThrottlerName = 'ip-send' | 'ip-verify' | 'verify-recipient-ip' | 'operator';

export const APPLIES_TO: Record<GuardThrottlerName, OtpRateLimitScope[]> = {
  'ip-send': ['issue', 'resend'],
  'ip-verify': ['verify'],
  'verify-recipient-ip': ['verify'],
  operator: ['operator'],
};

/** Metadata keys of `@nestjs/throttler`'s `@SkipThrottle` and `@Throttle` (per throttler name). */
const SKIP = 'THROTTLER:SKIP';
const LIMIT = 'THROTTLER:LIMIT';
const TTL = 'THROTTLER:TTL';
const BLOCK_DURATION = 'THROTTLER:BLOCK_DURATION';

type Resolvable = ThrottlerOptions['limit'] | undefined;

/** A guard throttler as a route applies it. */
export interface RouteThrottler {
  name: GuardThrottlerName;
  throttler: ThrottlerOptions;
  limit: Resolvable;
  ttl: Resolvable;
  blockDuration: Resolvable;
}

export interface RouteLimits {
  scope?: OtpRateLimitScope;
  /** The throttlers of the scope that the route does not skip, in counting order. */
  throttlers: RouteThrottler[];
}

/** One throttler about to be counted for a request. */
export interface GuardCount {
  name: GuardThrottlerName;
  limit: number;
  ttl: number;
  blockDuration: number;
}

/**
 * A route's scope (`@OtpRateLimited`) and the throttlers it applies, with `@SkipThrottle` and
 * `@Throttle` per throttler name read as the base class reads them: once per controller method,
 * since decorators do not change at run time (function values are still resolved per request).
 */
export function readRouteLimits(reflector: Reflector, throttlers: ThrottlerOptions[], handler: object, classRef: object): RouteLimits {
  const targets = [handler, classRef] as Parameters<Reflector['getAllAndOverride']>[1];
  const meta = <T>(key: string): T | undefined => reflector.getAllAndOverride<T | undefined>(key, targets);
  const scope = meta<OtpRateLimitScope>(OTP_RATE_LIMIT_SCOPE);
  if (!scope) return { throttlers: [] };
  return {
    scope,
    throttlers: throttlers
      .filter((t) => APPLIES_TO[t.name as GuardThrottlerName]?.includes(scope) && !meta<boolean>(SKIP + t.name))
      .map((t) => ({
        name: t.name as GuardThrottlerName, throttler: t,
        limit: meta<Resolvable>(LIMIT + t.name), ttl: meta<Resolvable>(TTL + t.name), blockDuration: meta<Resolvable>(BLOCK_DURATION + t.name),
      })),
  };
}

/** A limit, ttl or block duration from the options or `@Throttle`, checked to be a number as the base class does. */
export async function resolved(context: ExecutionContext, value: Resolvable, option: string, name: string): Promise<number> {
  const v: unknown = typeof value === 'function' ? await value(context) : value;
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || Number.isNaN(n)) throw new Error(`Invalid "${option}" for the "${name}" throttler: expected a number, got ${JSON.stringify(v)}.`);
  return n;
}
