import { Logger, Provider } from '@nestjs/common';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import { OtpRateLimitSubjects } from './otp-rate-limit.subjects';
import { OTP_THROTTLER_OPTIONS, OTP_THROTTLER_STORAGE } from './otp-rate-limit.keys';
import { OtpSendLimiter } from './otp-send-limiter';
import type { ResolvedOtpRateLimits } from './rate-limit-options';
import { OtpThrottlerGuard, otpThrottlerOptions } from './otp-throttler.guard';
import { RedisOtpThrottlerStorage } from './redis-throttler-storage';
import { OtpMemoryThrottlerStorage } from './memory-throttler-storage';

/** Providers of the rate limiter; the counters' store is chosen from the options. */
export const OTP_RATE_LIMIT_PROVIDERS: Provider[] = [
  {
    provide: OTP_THROTTLER_OPTIONS,
    useFactory: otpThrottlerOptions,
    inject: [OTP_RESOLVED_OPTIONS],
  },
  {
    provide: OTP_THROTTLER_STORAGE,
    useFactory: (o: { rateLimits: ResolvedOtpRateLimits; production: boolean }) => {
      if (o.rateLimits.storage) return o.rateLimits.storage;
      if (o.rateLimits.redis) return RedisOtpThrottlerStorage.connect(o.rateLimits.redis);
      if (o.production) {
        new Logger('OtpRateLimit').warn('rate-limit counters are in memory: correct for a single instance only; set rateLimits.redis (REDIS_URL) when running several');
      }
      return new OtpMemoryThrottlerStorage({ maxKeys: o.rateLimits.memoryMaxKeys });
    },
    inject: [OTP_RESOLVED_OPTIONS],
  },
  OtpRateLimitSubjects,
  OtpSendLimiter,
  OtpThrottlerGuard,
];
