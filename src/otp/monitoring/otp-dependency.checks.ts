import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { OtpMailer } from '../mail/otp-mailer.port';
import { SmtpOtpMailer } from '../mail/smtp/smtp-otp.mailer';
import { OTP_THROTTLER_STORAGE } from '../rate-limit/otp-throttler.guard';
import { RedisOtpThrottlerStorage } from '../rate-limit/redis-throttler-storage';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import type { ResolvedMonitoringOptions } from './monitoring-options';
import { cachedHealthCheck, OtpHealthChecks } from './otp-health.checks';

/**
 * Registers the module's own dependencies with `/health` when they are in use:
 * `smtp` (a handshake with the relay, never a message; its outcome reused for
 * `monitoring.smtpCheckCacheSeconds`) when mail goes out over SMTP, `redis` (PING)
 * when the rate-limit counters live in Redis.
 */
@Injectable()
export class OtpDependencyChecks implements OnModuleInit {
  constructor(
    private readonly checks: OtpHealthChecks,
    private readonly mailer: OtpMailer,
    @Inject(OTP_THROTTLER_STORAGE) private readonly throttlerStorage: ThrottlerStorage,
    @Inject(OTP_RESOLVED_OPTIONS) private readonly options: { monitoring: ResolvedMonitoringOptions },
  ) {}

  onModuleInit(): void {
    const mailer = this.mailer;
    if (mailer instanceof SmtpOtpMailer) {
      const { smtpCheckCacheMs, clock } = this.options.monitoring;
      this.checks.register('smtp', cachedHealthCheck(() => mailer.verify(), smtpCheckCacheMs, clock));
    }
    const storage = this.throttlerStorage;
    if (storage instanceof RedisOtpThrottlerStorage) this.checks.register('redis', () => storage.client.ping());
  }
}
