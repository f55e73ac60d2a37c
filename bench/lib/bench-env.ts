import { randomBytes } from 'node:crypto';

/**
 * The environment the benchmark gives the app: a production deployment
 * (NODE_ENV=production, real keys generated at run time), with only the limits
 * that would throttle a single load generator on 127.0.0.1 raised. Variables
 * the app does not read yet are simply ignored by it.
 */
export const RAISED_LIMITS: Record<string, { value: string; why: string }> = {
  // One load-generator IP sends thousands of requests a second; per-recipient limits stay as
  // in production (every bench request uses a new address).
  RATE_LIMIT_IP_SEND: { value: '1000000/60', why: 'per-IP issue/resend limit (one load-generator IP)' },
  RATE_LIMIT_IP_VERIFY: { value: '1000000/60', why: 'per-IP verify limit (one load-generator IP)' },
  RATE_LIMIT_NETWORK_SEND: { value: '1000000/60', why: 'per-network issue/resend limit (one load-generator network)' },
  RATE_LIMIT_GLOBAL_SEND: { value: '1000000/60', why: 'deployment-wide send cap' },
};

/** Sender and app address of the benchmarked deployment (the mail baseline renders its message with them too). */
export const BENCH_MAIL_FROM = '"Example sign-in" <otp@bench.example.com>';
export const BENCH_APP_URL = 'https://app.bench.example.com';

/**
 * Whether the app writes its audit trail in every part but the `audit off` variant: on, as in production
 * (the module's default), unless `BENCH_AUDIT=off` (to compare with runs before 2026-12-01, which had it off).
 */
export const BENCH_AUDIT = process.env.BENCH_AUDIT !== 'off';

export type ThrottlerStorageKind = 'memory' | 'redis';

export interface AppVariant {
  adapter: string;
  audit: boolean;
  throttlerStorage: ThrottlerStorageKind;
  mailPort?: 'capture' | 'real';
  extra?: NodeJS.ProcessEnv;
}

export interface BenchKeys {
  OTP_KEYS: string;
  OTP_ENCRYPTION_KEYS: string;
  OTP_INDEX_KEY: string;
}

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
export const newBenchKeys = (): BenchKeys => ({ OTP_KEYS: key('k1'), OTP_ENCRYPTION_KEYS: key('e1'), OTP_INDEX_KEY: randomBytes(32).toString('base64') });
const runKeys = newBenchKeys();
/** Keys kept per database (bench-db.ts stores them in the database itself); other URLs get this run's keys. */
const keysByDatabase = new Map<string, BenchKeys>();
export const registerDatabaseKeys = (databaseUrl: string, keys: BenchKeys): void => void keysByDatabase.set(databaseUrl, keys);

/** Variables set by the benchmark (documented in the README's Performance section). */
export function appEnv(databaseUrl: string, v: AppVariant): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: process.env.BENCH_POOL_SIZE ?? '10',
    ...(keysByDatabase.get(databaseUrl) ?? runKeys),
    HTTP_ADAPTER: v.adapter,
    OTP_AUDIT: v.audit ? 'on' : 'off',
    // Throttler storage: Redis when REDIS_URL is set, process memory otherwise.
    REDIS_URL: v.throttlerStorage === 'redis' ? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' : undefined,
    RATE_LIMIT_KEY_PREFIX: `otp-bench-${process.pid}-${Date.now()}:`,
    // Production refuses to start without a relay, a sender and an https app URL; the mail
    // port is captured unless BENCH_MAIL_PORT=real (the mail part points SMTP_URL at its sink).
    SMTP_URL: 'smtps://127.0.0.1:9',
    // Deployed behind a TLS-terminating proxy (the load generator speaks plain HTTP on 127.0.0.1).
    TLS_TERMINATED_BY_PROXY: 'true',
    MAIL_FROM: BENCH_MAIL_FROM,
    APP_URL: BENCH_APP_URL,
    BENCH_MAIL_PORT: v.mailPort ?? 'capture',
    LOG_LEVEL: 'info',
    ...v.extra,
  };
  for (const [name, { value }] of Object.entries(RAISED_LIMITS)) env[name] = value;
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return env;
}

/** The bare NestJS app's environment (`bare-nest-server.ts`): the app's database, pool size and adapter, nothing else. */
export function bareNestEnv(databaseUrl: string, adapter: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: process.env.BENCH_POOL_SIZE ?? '10', HTTP_ADAPTER: adapter };
}
