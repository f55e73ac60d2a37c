import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { INestApplication, Type } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test, TestingModule } from '@nestjs/testing';
import { configureApp, listenApp } from '../../src/app/app.factory';
import { AppModule } from '../../src/app/app.module';
import { createHttpAdapter, nestApplicationOptions } from '../../src/app/http/http-adapter';
import { HttpAdapterName, httpSettingsFromEnv } from '../../src/app/http/http-settings';
import { OtpMailer, otpRequestId } from '../../src/otp';
import { DevMailboxMailer } from '../../src/otp/mail/dev-mailbox.mailer';
import { OtpMailDispatcher } from '../../src/otp/mail/outbox/otp-mail.dispatcher';

/** Fresh `kid:base64` keys, made at test time (never committed). */
export function testKeyLine(id = 'k1'): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

export interface TestApp {
  app: INestApplication;
  mailbox: DevMailboxMailer;
  /**
   * The newest code mailed for a challenge, polling until it arrives (deadline 15 s: the machine may be busy);
   * waits for the dispatcher to record the delivery too.
   */
  codeFor(challengeId: string): Promise<string>;
  close(): Promise<void>;
  /** Every route the HTTP server itself registered (from the adapter's router, not from Nest metadata). */
  routes(): { method: string; path: string }[];
}

/**
 * The keys of every test app of this process unless a test sets its own: apps that
 * share a database must share its blind index key (a different one is refused at start).
 */
const PROCESS_KEYS = { OTP_KEYS: testKeyLine(), OTP_ENCRYPTION_KEYS: testKeyLine('e1') };
// The index key a development app derives from PROCESS_KEYS (their first key), pinned for production apps, so
// production and development apps of one suite can share a database.
const PROCESS_INDEX_KEY = PROCESS_KEYS.OTP_KEYS.slice(PROCESS_KEYS.OTP_KEYS.indexOf(':') + 1);

/**
 * Production refuses to start without a relay and an index key: production-mode test
 * apps get a placeholder relay (contacted only if a test sends mail) and the process's
 * index key, unless the test sets its own (`SMTP_URL: ''` to see the refusal).
 */
function productionMail(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.NODE_ENV === 'production'
    ? { SMTP_URL: 'smtps://127.0.0.1:9', MAIL_FROM: '"Test" <otp@example.test>', APP_URL: 'https://app.example.test', OTP_INDEX_KEY: PROCESS_INDEX_KEY }
    : {};
}

type Route = { method: string; path: string };

/** Express 5 keeps its routes in `router.stack`; each layer with a `route` is one path. */
function expressRoutes(instance: { router?: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] } }): Route[] {
  return (instance.router?.stack ?? []).flatMap((layer) =>
    // Nest mounts module middleware (the audit request context) as an all-methods `/{*path}` route: not an endpoint.
    layer.route && !layer.route.path.includes('{*')
      ? Object.keys(layer.route.methods).map((m) => ({ method: m.toUpperCase(), path: layer.route!.path }))
      : [],
  );
}

/**
 * Limits high enough that suites about something else never hit them (one test
 * process sends everything from 127.0.0.1); rate-limit suites set their own.
 */
/** A stream for `logTo` that keeps every chunk the app logs, in `chunks` (the caller's array). */
export function logSink(chunks: string[]): Writable {
  return new Writable({
    write(chunk, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
}

export const RELAXED_RATE_LIMITS: NodeJS.ProcessEnv = {
  RATE_LIMIT_IP_SEND: '10000/60',
  RATE_LIMIT_IP_VERIFY: '10000/60',
  RATE_LIMIT_RECIPIENT: '10000/60',
  RATE_LIMIT_RECIPIENT_DAILY: '10000/86400',
  RATE_LIMIT_VERIFY_RECIPIENT_IP: '10000/600',
  RATE_LIMIT_NETWORK_SEND: '10000/60',
  RATE_LIMIT_GLOBAL_SEND: '10000/60',
  RATE_LIMIT_OPERATOR: '10000/60',
  RATE_LIMIT_PASSWORD_ACCOUNT: '10000/900',
  RATE_LIMIT_PASSWORD_IP: '10000/900',
};

/**
 * The adapter(s) this run tests HTTP on (`describe.each(HTTP_ADAPTERS)`). Each jest project is one
 * adapter: `express`, and `fastify` (its setup sets HTTP_ADAPTER), which runs every HTTP suite
 * again; so in `npm test` each case runs once per adapter. `HTTP_ADAPTER=fastify npm test` runs
 * everything on Fastify.
 */
export const HTTP_ADAPTERS: HttpAdapterName[] = [httpSettingsFromEnv({ HTTP_ADAPTER: process.env.HTTP_ADAPTER }).adapter];

/**
 * Boots the example app exactly as `main.ts` does, on the given environment
 * (`HTTP_ADAPTER=express|fastify` picks the adapter; express by default).
 * Pass `listen: true` to also listen on an ephemeral port of 127.0.0.1, and
 * `logDestination` to capture the app's JSON log lines.
 */
export async function bootTestApp(
  env: NodeJS.ProcessEnv,
  opts: { listen?: boolean; controllers?: Type<unknown>[]; logDestination?: DestinationStream } = {},
): Promise<TestApp> {
  const fullEnv = {
    ...PROCESS_KEYS,
    // `HTTP_ADAPTER=fastify npm test` runs every suite that does not pick an adapter on Fastify.
    HTTP_ADAPTER: process.env.HTTP_ADAPTER ?? 'express',
    ...productionMail(env),
    ...env,
  };
  const http = httpSettingsFromEnv(fullEnv);
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forEnv(fullEnv, { logDestination: opts.logDestination })],
    controllers: opts.controllers ?? [],
  })
    .setLogger(false as never)
    .compile();
  const nestApp = moduleRef.createNestApplication(createHttpAdapter(http), nestApplicationOptions(http, { logger: false }));
  const fastifyRoutes: Route[] = [];
  if (http.adapter === 'fastify') {
    nestApp.getHttpAdapter().getInstance().addHook('onRoute', (r: { method: string | string[]; url: string }) => {
      for (const m of [r.method].flat()) if (m !== 'HEAD') fastifyRoutes.push({ method: m, path: r.url });
    });
  }
  const app = await configureApp(nestApp, http);
  try {
    if (opts.listen) await listenApp(app, 0, '127.0.0.1');
    else await app.init();
  } catch (err) {
    await app.close().catch(() => undefined); // a refused start leaves no pool open
    throw err;
  }
  if (http.adapter === 'fastify') await app.getHttpAdapter().getInstance().ready();
  const mailbox = app.get(OtpMailer) as DevMailboxMailer;
  return {
    app,
    mailbox,
    async codeFor(challengeId: string): Promise<string> {
      const code = await pollFor(() => mailbox.list().find((m) => m.challengeId === challengeId)?.code);
      await app.get(OtpMailDispatcher).whenIdle();
      return code;
    },
    close: () => app.close(),
    routes: () => (http.adapter === 'fastify' ? fastifyRoutes : expressRoutes(app.getHttpAdapter().getInstance())),
  };
}

/**
 * A suite's own testing module (extra controllers, other imports) served as `main.ts` serves the
 * app, on the adapter `HTTP_ADAPTER` names (the jest project's), initialised. `bare`: without the
 * example app's settings (no global `OtpExceptionFilter`, helmet or request ids), as a host app of its own.
 * `withoutMiddie` (Fastify): a host that turned Nest middleware off (`skipMiddie`), naming requests by `otpRequestId`.
 */
export async function startTestHttpApp(moduleRef: TestingModule, env: NodeJS.ProcessEnv = {}, opts: { bare?: boolean; withoutMiddie?: boolean } = {}): Promise<INestApplication> {
  const http = httpSettingsFromEnv({ HTTP_ADAPTER: process.env.HTTP_ADAPTER, ...env });
  const adapter = opts.withoutMiddie && http.adapter === 'fastify' ? new FastifyAdapter({ genReqId: otpRequestId, skipMiddie: true }) : createHttpAdapter(http);
  // A bare host keeps Nest's own body parser (the example app's settings turn Express's off for their own).
  const created = moduleRef.createNestApplication(adapter, opts.bare ? { logger: false } : nestApplicationOptions(http, { logger: false }));
  const app = opts.bare ? created : await configureApp(created, http);
  await app.init();
  if (http.adapter === 'fastify') await app.getHttpAdapter().getInstance().ready();
  return app;
}

/** Polls `probe` until it returns a value, or fails after `deadlineMs`. */
export async function pollFor<T>(probe: () => T | undefined | Promise<T | undefined>, deadlineMs = 15_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`condition not met within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
