import { OtpModuleOptions } from '../otp';
import { currentAccountEmail } from './accounts';
import { rateLimitsFromEnv } from './rate-limit.config';

/** The example app's OTP configuration, from the environment (documented in the README). */
export function otpOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): OtpModuleOptions {
  return {
    keys: env.OTP_KEYS,
    encryptionKeys: env.OTP_ENCRYPTION_KEYS,
    indexKey: env.OTP_INDEX_KEY,
    production: env.NODE_ENV === 'production',
    // Binds transfer codes to the signed-in account (set by SessionGuard, which runs before OtpGuard).
    currentUserEmail: currentAccountEmail,
    audit: { adminToken: env.OTP_ADMIN_TOKEN, enabled: env.OTP_AUDIT !== 'off' },
    monitoring: { alerts: { webhookUrl: env.OTP_ALERT_WEBHOOK_URL } },
    purposes: {
      login: { ttlSeconds: 600 },
      'verify-email': { ttlSeconds: 1800 },
      transfer: { ttlSeconds: 300, requiresContext: true },
    },
    rateLimits: rateLimitsFromEnv(env),
  };
}
