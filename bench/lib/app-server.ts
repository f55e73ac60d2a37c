/**
 * The app under benchmark, in its own process (so its RSS is its own): the
 * example app exactly as configured by the environment, plus the bare "limit"
 * routes, with the mail port overridden by a test-only capture. Talks to the
 * harness over IPC:
 *  - sends `{ type: 'ready', port, adapter, features }` once listening;
 *  - `{ cmd: 'prepare', id, n, tag }` issues n challenges through `OtpService`
 *    and answers `{ type: 'prepared', id, pairs: [challengeId, code, email][] }`;
 *  - `{ cmd: 'heap', id }` forces a GC (with --expose-gc) and answers `{ type: 'heap', id, heapMb, rssMb }`;
 *  - `{ cmd: 'stop' }` closes the app and exits.
 * `HTTP_ADAPTER=fastify` uses Fastify when `@nestjs/platform-fastify` is
 * installed, else Express (and says so in `adapter`).
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ConsoleLogger, INestApplication, LogLevel } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { DataSource } from 'typeorm';
import { configureApp } from '../../src/app/app.factory';
import { AppModule } from '../../src/app/app.module';
import { OtpExceptionFilter, OtpMailer, OtpService } from '../../src/otp';
import { OtpMailDispatcher } from '../../src/otp/mail/outbox/otp-mail.dispatcher';
import { OtpMetrics } from '../../src/otp/monitoring/otp-metrics';
import { OTP_THROTTLER_STORAGE } from '../../src/otp/rate-limit/otp-rate-limit.keys';
import { BenchCaptureMailer } from './capture.mailer';
import { BenchLimitModule } from './limit.controller';

/** The example app's levels; `BENCH_LOG_LEVELS=error,warn,log,debug,verbose` for the leak test. */
const LOG_LEVELS = (process.env.BENCH_LOG_LEVELS ?? 'error,warn,log').split(',') as LogLevel[];

export interface AppFeatures {
  tables: string[];
  throttlerStorage: string | null;
  notes: string[];
}

function fastifyAvailable(): boolean {
  try {
    require.resolve('@nestjs/platform-fastify');
    return true;
  } catch {
    return false;
  }
}

/** A module of the example app by path, or null when this build does not have it yet. */
function optionalAppModule<T>(relative: string): T | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(join(__dirname, '../../src/app', relative)) as T;
  } catch {
    return null;
  }
}

interface HttpHelpers {
  httpSettingsFromEnv(env: NodeJS.ProcessEnv): { adapter: string };
}
interface AdapterHelpers {
  createHttpAdapter(http: unknown): unknown;
  nestApplicationOptions(http: unknown, extra: Record<string, unknown>): Record<string, unknown>;
}

async function createBenchApp(notes: string[]): Promise<{ app: INestApplication; adapter: string; capture: BenchCaptureMailer }> {
  const capture = new BenchCaptureMailer();
  capture.keepAll = process.env.BENCH_CAPTURE_ALL === '1';
  const builder = Test.createTestingModule({ imports: [AppModule.forEnv(process.env), BenchLimitModule] });
  // The testing module would otherwise swap in its quiet logger: log as the app does.
  const logger = new ConsoleLogger();
  logger.setLogLevels(LOG_LEVELS);
  builder.setLogger(logger);
  // BENCH_MAIL_PORT=real keeps the app's own mail delivery (the mail-throughput part); otherwise codes are captured.
  if (process.env.BENCH_MAIL_PORT !== 'real') builder.overrideProvider(OtpMailer).useValue(capture);
  const moduleRef = await builder.compile();

  // A build with the HTTP hardening work picks and configures the adapter itself, from HTTP_ADAPTER.
  const settings = optionalAppModule<HttpHelpers>('http/http-settings');
  const adapters = optionalAppModule<AdapterHelpers>('http/http-adapter');
  if (settings && adapters) {
    const http = settings.httpSettingsFromEnv(process.env);
    const app = moduleRef.createNestApplication(adapters.createHttpAdapter(http) as never, adapters.nestApplicationOptions(http, { logger: LOG_LEVELS }));
    await (configureApp as (a: INestApplication, h?: unknown) => unknown)(app, http);
    return { app, adapter: http.adapter, capture };
  }
  if (process.env.HTTP_ADAPTER === 'fastify') {
    if (fastifyAvailable()) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { FastifyAdapter } = require('@nestjs/platform-fastify');
      const app = moduleRef.createNestApplication(new FastifyAdapter({ bodyLimit: 16 * 1024 }), { logger: LOG_LEVELS });
      try {
        await configureApp(app);
      } catch (err) {
        // Before the Fastify work is merged configureApp speaks Express only: apply the equivalent.
        notes.push(`configureApp does not support Fastify in this build (${(err as Error).message}); bench applied the error filter and a 16 kB body limit itself`);
        app.useGlobalFilters(new OtpExceptionFilter(app.get(HttpAdapterHost)));
      }
      return { app, adapter: 'fastify', capture };
    }
    notes.push('@nestjs/platform-fastify is not installed: fell back to Express');
  }
  const app = moduleRef.createNestApplication({ bodyParser: false, logger: LOG_LEVELS });
  await configureApp(app);
  return { app, adapter: 'express', capture };
}

async function detectFeatures(app: INestApplication, notes: string[]): Promise<AppFeatures> {
  const db = app.get(DataSource);
  const tables = (await db.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`))
    .map((r: { table_name: string }) => r.table_name);
  let throttlerStorage: string | null = null;
  if (optionalAppModule('rate-limit.config')) return { tables, throttlerStorage: process.env.REDIS_URL ? 'redis' : 'memory', notes };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ThrottlerStorage } = require('@nestjs/throttler');
    const storage = app.get(ThrottlerStorage, { strict: false });
    throttlerStorage = storage?.constructor?.name ?? null;
  } catch {
    throttlerStorage = null;
  }
  return { tables, throttlerStorage, notes };
}

/** n challenges with their codes and addresses: `[challengeId, code, email]` (the sign-in flow needs the address). */
async function prepare(app: INestApplication, capture: BenchCaptureMailer, n: number, tag: string): Promise<[string, string, string][]> {
  const otp = app.get(OtpService);
  const ids: string[] = [];
  const emails = new Map<string, string>();
  capture.recording = true;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const email = `prep-${tag}-${next++}@bench.example.com`;
      const c = await otp.issue({ email, ip: '127.0.0.1', userAgent: 'bench' });
      ids.push(c.challengeId);
      emails.set(c.challengeId, email);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const until = Date.now() + 30_000;
  while (ids.some((id) => !capture.codes.has(id))) {
    if (Date.now() > until) throw new Error('codes did not reach the mail port within 30 s');
    await new Promise((r) => setTimeout(r, 5));
  }
  capture.recording = false;
  const pairs = ids.map((id) => [id, capture.codes.get(id)!, emails.get(id)!] as [string, string, string]);
  if (!capture.keepAll) capture.codes.clear();
  return pairs;
}

/**
 * What could hold memory as requests go by, counted (the soak prints them each minute): the
 * in-memory throttler's keys and its per-hit expiry stamps, the metrics' label sets, the capture's codes.
 */
async function holders(app: INestApplication, capture: BenchCaptureMailer): Promise<Record<string, number>> {
  const counts: Record<string, number> = { capturedCodes: capture.codes.size + capture.allCodes.length };
  const storage = app.get<{ size?: number; storage?: Map<string, unknown>; hitExpirations?: Map<string, Map<string, number[]>> }>(OTP_THROTTLER_STORAGE, { strict: false });
  if (typeof storage?.size === 'number') counts.throttlerKeys = storage.size; // the module's own in-memory store
  else if (storage?.storage) counts.throttlerKeys = storage.storage.size;
  if (storage?.hitExpirations) {
    let stamps = 0;
    for (const byName of storage.hitExpirations.values()) for (const hits of byName.values()) stamps += hits.length;
    counts.throttlerHitStamps = stamps;
  }
  // Outside the JS heap: buffers held by JS objects, and what the kernel counts as anonymous memory
  // (malloc arenas included) against file-backed pages (code, mapped files).
  const mem = process.memoryUsage();
  // V8's committed heap: pages it keeps after a GC count in RSS though heapUsed leaves them out.
  counts.heapTotalMb = Math.round(mem.heapTotal / 1048576);
  counts.externalMb = Math.round(mem.external / 1048576);
  counts.arrayBuffersMb = Math.round(mem.arrayBuffers / 1048576);
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    for (const [field, name] of [['RssAnon', 'rssAnonMb'], ['RssFile', 'rssFileMb']] as const) {
      const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1];
      if (kb) counts[name] = Math.round(Number(kb) / 1024);
    }
  } catch {
    // not Linux
  }
  const dispatcher = app.get<{ inFlight?: Set<unknown> }>(OtpMailDispatcher, { strict: false });
  if (dispatcher?.inFlight) counts.mailInFlight = dispatcher.inFlight.size;
  try {
    const metrics = await app.get(OtpMetrics, { strict: false }).registry.getMetricsAsJSON();
    counts.metricSeries = metrics.reduce((n, m) => n + ((m as { values?: unknown[] }).values?.length ?? 0), 0);
  } catch {
    // no metrics in this build
  }
  return counts;
}

/** Issues n challenges without waiting for their codes (the mail part counts them at the SMTP sink). */
async function issueOnly(app: INestApplication, n: number, tag: string): Promise<void> {
  const otp = app.get(OtpService);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) await otp.issue({ email: `mail-${tag}-${next++}@bench.example.com`, ip: '127.0.0.1', userAgent: 'bench' });
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

async function main(): Promise<void> {
  const notes: string[] = [];
  const { app, adapter, capture } = await createBenchApp(notes);
  await app.listen(0, '127.0.0.1');
  const port = (app.getHttpServer().address() as AddressInfo).port;
  process.send!({ type: 'ready', port, adapter, features: await detectFeatures(app, notes) });
  process.on('message', (m: { cmd: string; id?: number; n?: number; tag?: string }) => {
    if (m.cmd === 'prepare') {
      prepare(app, capture, m.n!, m.tag!)
        .then((pairs) => process.send!({ type: 'prepared', id: m.id, pairs }))
        .catch((err: Error) => process.send!({ type: 'prepared', id: m.id, error: err.message }));
    } else if (m.cmd === 'issue') {
      issueOnly(app, m.n!, m.tag!)
        .then(() => process.send!({ type: 'issued', id: m.id }))
        .catch((err: Error) => process.send!({ type: 'issued', id: m.id, error: err.message }));
    } else if (m.cmd === 'codes') {
      process.send!({ type: 'codes', id: m.id, codes: capture.allCodes, latest: Object.fromEntries(capture.codes) });
    } else if (m.cmd === 'heap') {
      // The soak's per-minute sample: heap after a forced GC (the child runs with --expose-gc).
      (globalThis as { gc?: () => void }).gc?.();
      const mem = process.memoryUsage();
      holders(app, capture)
        .then((counts) => process.send!({ type: 'heap', id: m.id, heapMb: mem.heapUsed / 1048576, rssMb: mem.rss / 1048576, counts }))
        .catch((err: Error) => process.send!({ type: 'heap', id: m.id, error: err.message }));
    } else if (m.cmd === 'stop') {
      app.close().finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
}

main().catch((err: Error) => {
  process.stderr.write(`bench app failed to start: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
