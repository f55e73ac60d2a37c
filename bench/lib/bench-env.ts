import { randomBytes } from 'node:crypto';

/**
 * The environment the benchmark gives the app: a production deployment
 * (NODE_ENV=production, real keys generated at run time), with only the limits
 * that would throttle a single load generator on 127.0.0.1 raised. Variables
 * the app does not read yet are simply ignored by it.
 */
export const RAISED_LIMITS: Record<string, { value: string; why: string }> = {
  // Per-IP and global request/send throttles: the load generator is one IP sending thousands a second.
  OTP_THROTTLE_IP_LIMIT: { value: '100000000', why: 'per-IP request throttle (one load-generator IP)' },
  OTP_THROTTLE_GLOBAL_SEND_LIMIT: { value: '100000000', why: 'global send cap' },
  THROTTLE_LIMIT: { value: '100000000', why: 'default throttler limit' },
};

export type ThrottlerStorageKind = 'memory' | 'redis';

export interface AppVariant {
  adapter: string;
  audit: boolean;
  throttlerStorage: ThrottlerStorageKind;
  mailPort?: 'capture' | 'real';
  extra?: NodeJS.ProcessEnv;
}

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const runKeys = { OTP_KEYS: key('k1'), OTP_ENCRYPTION_KEYS: key('e1'), OTP_INDEX_KEY: randomBytes(32).toString('base64') };

/** Variables set by the benchmark (documented in the README's Performance section). */
export function appEnv(databaseUrl: string, v: AppVariant): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: process.env.BENCH_POOL_SIZE ?? '10',
    ...runKeys,
    HTTP_ADAPTER: v.adapter,
    OTP_AUDIT: v.audit ? 'on' : 'off',
    THROTTLER_STORAGE: v.throttlerStorage,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: `otp-bench-${process.pid}-`,
    BENCH_MAIL_PORT: v.mailPort ?? 'capture',
    LOG_LEVEL: 'info',
    ...v.extra,
  };
  for (const [name, { value }] of Object.entries(RAISED_LIMITS)) env[name] = value;
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return env;
}
