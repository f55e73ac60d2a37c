import { DynamicModule, Global, Module } from '@nestjs/common';
import { passwordChangeLimitsFromEnv } from '../rate-limit.config';

export interface AccountsRateLimit {
  limit: number;
  ttlSeconds: number;
}

/** Caps on scrypt work, per process. */
export interface PasswordHashingLimits {
  /** Derivations running at once (each holds 128 MiB and a libuv thread). @default 2 */
  maxConcurrent: number;
  /** Derivations waiting for a slot; beyond this a request is refused with 503. @default 16 */
  maxQueued: number;
}

/** Settings of the example accounts module, from the environment (README, "Rate limits" and "Configuration"). */
export interface AccountsSettings {
  passwordChange: {
    /** `POST /accounts/password` per account, every session and IP together. @default 5 / 15 min */
    account: AccountsRateLimit;
    /** `POST /accounts/password` per client IP (IPv6 by network), all accounts together. @default 20 / 15 min */
    ip: AccountsRateLimit;
    /** Prefix of the counters' keys in the shared store (`RATE_LIMIT_KEY_PREFIX`). */
    keyPrefix: string;
    ipv6SubnetPrefix: number;
  };
  passwordHashing: PasswordHashingLimits;
}

export const ACCOUNTS_SETTINGS = Symbol('ACCOUNTS_SETTINGS');

function boundedInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max) throw new Error(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  return value;
}

/** The accounts module's settings: password-change limits (`RATE_LIMIT_PASSWORD_*`) and scrypt caps (`PASSWORD_HASH_*`). */
export function accountsSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): AccountsSettings {
  const limits = passwordChangeLimitsFromEnv(env);
  return {
    passwordChange: {
      account: limits.account ?? { limit: 5, ttlSeconds: 900 },
      ip: limits.ip ?? { limit: 20, ttlSeconds: 900 },
      keyPrefix: `${env.RATE_LIMIT_KEY_PREFIX || 'otp:rl:'}accounts:`,
      ipv6SubnetPrefix: env.RATE_LIMIT_IPV6_PREFIX ? Number(env.RATE_LIMIT_IPV6_PREFIX) : 64,
    },
    passwordHashing: {
      maxConcurrent: boundedInteger(env, 'PASSWORD_HASH_CONCURRENCY', 2, 1, 64),
      maxQueued: boundedInteger(env, 'PASSWORD_HASH_QUEUE', 16, 0, 10_000),
    },
  };
}

/** Provides `ACCOUNTS_SETTINGS` to the accounts module and the modules that import it. */
@Global()
@Module({})
export class AccountsSettingsModule {
  static forEnv(env: NodeJS.ProcessEnv): DynamicModule {
    return {
      module: AccountsSettingsModule,
      providers: [{ provide: ACCOUNTS_SETTINGS, useValue: accountsSettingsFromEnv(env) }],
      exports: [ACCOUNTS_SETTINGS],
    };
  }
}
