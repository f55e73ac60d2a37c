/**
 * Micro-benchmarks of the rate limiter, in process (no HTTP, no database), for A/B runs:
 *  - `guard+limiter`: `OtpThrottlerGuard.canActivate` on an issue route plus `OtpSendLimiter.count`,
 *    a new recipient each time (what one issue request costs the rate limiter);
 *  - `guard verify`: the guard on a verify route, with a UUIDv8 id (its recipient tag read from the id)
 *    or, with `THROTTLE_VERIFY_ID=v4`, an id minted before tags (the recipient lookup answered by a stub);
 *  - `heap per key`: N keys written into the in-memory store, heap and external memory after a
 *    forced GC, per key (run with `node --expose-gc`).
 * `THROTTLE_STORE=memory|redis` (Redis at `REDIS_URL`, default 127.0.0.1:6379, own key prefix),
 * `THROTTLE_N` requests per run, `THROTTLE_RUNS` runs (median printed), `THROTTLE_PART=requests|heap`.
 * Run: `npx ts-node --transpile-only bench/throttle/throttle-micro.ts` (with `node -r ts-node/register/transpile-only --expose-gc` for heap).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Controller, ExecutionContext, Post } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import { OtpEventBus } from '../../src/otp/events/otp-event-bus';
import { OtpRateLimited } from '../../src/otp/rate-limit/otp-rate-limit.decorator';
import { OtpRateLimitSubjects } from '../../src/otp/rate-limit/otp-rate-limit.subjects';
import { OtpSendLimiter } from '../../src/otp/rate-limit/otp-send-limiter';
import { OtpThrottlerGuard, otpThrottlerOptions } from '../../src/otp/rate-limit/otp-throttler.guard';
import { resolveRateLimits } from '../../src/otp/rate-limit/rate-limit-options';
import { RedisOtpThrottlerStorage } from '../../src/otp/rate-limit/redis-throttler-storage';
import type { ResolvedOtpOptions } from '../../src/otp/options/otp-options.interface';

@Controller()
class Routes {
  @Post() @OtpRateLimited('issue') issue(): void {}
  @Post() @OtpRateLimited('verify') verify(): void {}
}

const RAISED = { limit: 1_000_000, ttlSeconds: 60 };
/** `THROTTLE_VERIFY_ID=v8` (default): an id carrying its recipient tag; `v4`: an id minted before tags (looked up, stubbed). */
const VERIFY_ID = process.env.THROTTLE_VERIFY_ID === 'v4' ? '00000000-0000-4000-8000-000000000000' : '01234567-89ab-8cde-8f00-000000000000';

async function memoryStore(): Promise<ThrottlerStorage> {
  // The module's default in-memory store, whichever this build has.
  const providers = await import('../../src/otp/rate-limit/otp-rate-limit.providers');
  const factory = providers.OTP_RATE_LIMIT_PROVIDERS.find((p) => typeof p === 'object' && 'provide' in p && String(p.provide).includes('STORAGE')) as { useFactory: (...a: unknown[]) => ThrottlerStorage };
  return factory.useFactory({ rateLimits: resolveRateLimits({}), production: false }, new OtpEventBus());
}

function context(handler: (...a: unknown[]) => unknown, ip: string, id?: string): ExecutionContext {
  const req = { ip, params: id ? { id } : {}, headers: {} };
  const res = { header: () => undefined };
  return new ExecutionContextHost([req, res], Routes, handler);
}

async function requests(storage: ThrottlerStorage, n: number): Promise<{ issueUs: number; verifyUs: number; issueCpuUs: number; verifyCpuUs: number }> {
  const rateLimits = resolveRateLimits({ ipSend: RAISED, ipVerify: RAISED, networkSend: RAISED, globalSend: RAISED, keyPrefix: `otp-micro-${process.pid}-${randomBytes(3).toString('hex')}:` });
  const options = { rateLimits } as ResolvedOtpOptions;
  const bus = new OtpEventBus();
  // Stubs of both builds' lookups: `fromChallenge` (before tagged ids), `tagOf` (the tag of a v8 id, else a looked-up one).
  const subjects = {
    fromChallenge: async () => ({ recipientIndex: 'ri', purpose: 'login' }),
    tagOf: async (id: string) => (id[14] === '8' ? id.slice(0, 8) + id.slice(9, 13) + id[15] : '0123456789abc'),
  } as unknown as OtpRateLimitSubjects;
  const guard = new OtpThrottlerGuard(otpThrottlerOptions(options), storage, new Reflector(), { keyPrefix: rateLimits.keyPrefix }, subjects, bus);
  await guard.onModuleInit();
  const limiter = new OtpSendLimiter(options, storage, bus);
  const issue = Routes.prototype.issue as (...a: unknown[]) => unknown;
  const verify = Routes.prototype.verify as (...a: unknown[]) => unknown;
  const tag = randomBytes(4).toString('hex');
  const cpu = () => { const u = process.cpuUsage(); return u.user + u.system; };
  let c = cpu();
  let t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    await guard.canActivate(context(issue, ip));
    await limiter.count({ scope: 'issue', recipientIndex: `${tag}-${i}`, purpose: 'login', ip });
  }
  const issueUs = Number(process.hrtime.bigint() - t) / 1000 / n;
  const issueCpuUs = (cpu() - c) / n;
  c = cpu();
  t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    await guard.canActivate(context(verify, ip, VERIFY_ID));
  }
  const verifyUs = Number(process.hrtime.bigint() - t) / 1000 / n;
  return { issueUs, verifyUs, issueCpuUs, verifyCpuUs: (cpu() - c) / n };
}

async function heapPerKey(n: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const stores = [['@nestjs/throttler ThrottlerStorageService', async () => new ThrottlerStorageService() as ThrottlerStorage], ['module default', memoryStore]] as const;
  // One store per process (THROTTLE_HEAP_STORE=0|1) for an RSS figure of its own.
  const only = process.env.THROTTLE_HEAP_STORE;
  for (const [label, make] of only === undefined ? stores : [stores[Number(only)]]) {
    const store = await make();
    gc();
    const before = process.memoryUsage();
    for (let i = 0; i < n; i++) await store.increment(`otp:rl:recipient-daily:${randomBytes(32).toString('base64url')}`, 86_400_000, 20, 86_400_000, 'recipient-daily');
    gc();
    const after = process.memoryUsage();
    const heap = (after.heapUsed - before.heapUsed) / n;
    const external = (after.external - before.external) / n; // includes arrayBuffers (the slab)
    console.log(`${label}: ${n} keys, heap ${heap.toFixed(0)} B/key, external ${external.toFixed(0)} B/key, rss +${((after.rss - before.rss) / 2 ** 20).toFixed(1)} MB`);
    (store as { onApplicationShutdown?: () => void; onModuleDestroy?: () => void }).onApplicationShutdown?.();
    (store as { onModuleDestroy?: () => void }).onModuleDestroy?.();
  }
}

async function main(): Promise<void> {
  const n = Number(process.env.THROTTLE_N ?? 20_000);
  if (process.env.THROTTLE_PART === 'heap') return heapPerKey(Number(process.env.THROTTLE_N ?? 100_000));
  const runs = Number(process.env.THROTTLE_RUNS ?? 5);
  const kind = process.env.THROTTLE_STORE ?? 'memory';
  const results: Awaited<ReturnType<typeof requests>>[] = [];
  for (let r = 0; r < runs; r++) {
    const storage = kind === 'redis' ? RedisOtpThrottlerStorage.connect({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }) : await memoryStore();
    if (storage instanceof RedisOtpThrottlerStorage) await storage.onModuleInit();
    results.push(await requests(storage, n));
    (storage as { onModuleDestroy?: () => void }).onModuleDestroy?.();
    (storage as { onApplicationShutdown?: () => void }).onApplicationShutdown?.();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const show = (k: keyof (typeof results)[number]) => `${median(results.map((x) => x[k])).toFixed(1)} µs (runs ${results.map((x) => x[k].toFixed(1)).join(', ')})`;
  console.log(`${kind}: ${runs} runs of ${n}; per issue (guard + limiter): wall ${show('issueUs')}, CPU ${show('issueCpuUs')}; per verify (guard): wall ${show('verifyUs')}, CPU ${show('verifyCpuUs')}`);
}

void main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
