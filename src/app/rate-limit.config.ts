import { readFileSync } from 'node:fs';
import { OtpRateLimitOptions } from 'nestjs-email-otp';

type LimitVariable = 'RATE_LIMIT_IP_SEND' | 'RATE_LIMIT_IP_VERIFY' | 'RATE_LIMIT_RECIPIENT' | 'RATE_LIMIT_RECIPIENT_DAILY'
  | 'RATE_LIMIT_VERIFY_RECIPIENT_IP' | 'RATE_LIMIT_NETWORK_SEND' | 'RATE_LIMIT_GLOBAL_SEND' | 'RATE_LIMIT_OPERATOR'
  | 'RATE_LIMIT_PASSWORD_ACCOUNT' | 'RATE_LIMIT_PASSWORD_IP';

/** `"limit/seconds"`, e.g. `"10/60"`; unset keeps the module default. */
function limitFrom(env: NodeJS.ProcessEnv, variable: LimitVariable): { limit: number; ttlSeconds: number } | undefined {
  const raw = env[variable];
  if (raw === undefined || raw === '') return undefined;
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(raw);
  if (!m) throw new Error(`${variable} must look like "limit/seconds", e.g. "10/60" (got "${raw}")`);
  return { limit: Number(m[1]), ttlSeconds: Number(m[2]) };
}

/** Limits of the example app's `POST /accounts/password` (unset: the accounts module's defaults). */
export function passwordChangeLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): {
  account?: { limit: number; ttlSeconds: number };
  ip?: { limit: number; ttlSeconds: number };
} {
  return { account: limitFrom(env, 'RATE_LIMIT_PASSWORD_ACCOUNT'), ip: limitFrom(env, 'RATE_LIMIT_PASSWORD_IP') };
}

/** The example app's rate limits, from the environment (documented in the README, "Rate limits"). */
export function rateLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): OtpRateLimitOptions {
  return {
    ipSend: limitFrom(env, 'RATE_LIMIT_IP_SEND'),
    ipVerify: limitFrom(env, 'RATE_LIMIT_IP_VERIFY'),
    recipient: limitFrom(env, 'RATE_LIMIT_RECIPIENT'),
    recipientDaily: limitFrom(env, 'RATE_LIMIT_RECIPIENT_DAILY'),
    verifyRecipientIp: limitFrom(env, 'RATE_LIMIT_VERIFY_RECIPIENT_IP'),
    networkSend: limitFrom(env, 'RATE_LIMIT_NETWORK_SEND'),
    globalSend: limitFrom(env, 'RATE_LIMIT_GLOBAL_SEND'),
    operator: limitFrom(env, 'RATE_LIMIT_OPERATOR'),
    ipv6SubnetPrefix: env.RATE_LIMIT_IPV6_PREFIX ? Number(env.RATE_LIMIT_IPV6_PREFIX) : undefined,
    keyPrefix: env.RATE_LIMIT_KEY_PREFIX || undefined,
    memoryMaxKeys: env.RATE_LIMIT_MEMORY_MAX_KEYS ? Number(env.RATE_LIMIT_MEMORY_MAX_KEYS) : undefined,
    redis: env.REDIS_URL
      ? { url: env.REDIS_URL, ca: env.REDIS_CA_FILE ? readFileSync(env.REDIS_CA_FILE) : undefined }
      : undefined,
  };
}
