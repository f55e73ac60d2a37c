import { BadRequestException, INestApplication, NestApplicationOptions } from '@nestjs/common';
import { AbstractHttpAdapter, HttpAdapterHost, Reflector } from '@nestjs/core';
import { ExpressAdapter, NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { JsonBodyGuard, OtpAccessLog, OtpExceptionFilter, otpRequestId } from 'nestjs-email-otp';
import { HttpSettings, tlsServerOptions } from './http-settings';
import { setupOpenApi } from './openapi';
import { OperatorListenerGuard } from './operator-listener';
import { assignRequestIds } from './request-id';
import { securityHeaders } from './security-headers';
import { CONSOLE_HEADERS, isConsoleUrl } from '../pages/console/console-headers';

/** Largest JSON body accepted; OTP requests are a few hundred bytes. */
export const BODY_LIMIT_BYTES = 16 * 1024;

/** The Nest HTTP adapter chosen by `HTTP_ADAPTER`, with the body limit, proxy trust and TLS settings. */
export function createHttpAdapter(http: HttpSettings): AbstractHttpAdapter {
  if (http.adapter === 'fastify') {
    return new FastifyAdapter({
      bodyLimit: BODY_LIMIT_BYTES,
      trustProxy: fastifyTrustProxy(http.trustProxy),
      onProtoPoisoning: 'error',
      onConstructorPoisoning: 'error',
      // The request id follows the module's rule (a well-formed X-Request-Id or a fresh UUID), not Fastify's `req-1`.
      genReqId: otpRequestId,
      frameworkErrors: withoutUrlEcho,
      ...(http.tls ? { https: tlsServerOptions(http.tls) } : {}),
    });
  }
  const express = new ExpressAdapter();
  // As Fastify routes: `/METRICS` and `/metrics/` are not `/metrics`, so a proxy rule on a path cannot be
  // side-stepped by spelling it differently. Express's router reads these settings once, when it is created,
  // and the adapter's constructor has already created it (its first `use`): the router is told directly too.
  express.set('case sensitive routing', true);
  express.set('strict routing', true);
  Object.assign((express.getInstance() as { router: object }).router, { caseSensitive: true, strict: true });
  return express;
}

/**
 * `TRUST_PROXY` for Fastify: a hop count as Express reads it (the `n` hops nearest the socket, bounded in
 * production by `MAX_TRUSTED_HOPS`). Fastify 5.12 takes a bare number as "trust nothing" (its docs call hop-count
 * trust unsafe when the app can be reached without the proxy), which would count every client as the proxy; the
 * two adapters must resolve the same client.
 */
function fastifyTrustProxy(trust: HttpSettings['trustProxy']): false | string[] | ((address: string, hop: number) => boolean) {
  if (typeof trust !== 'number') return trust;
  return (_address, hop) => hop < trust;
}

/**
 * body-parser's JSON errors carry V8's message, which quotes the text around the
 * bad token (`"{"email": jane@…" is not valid JSON`): answered with a fixed one.
 */
function withoutBodyEcho(err: { type?: unknown } | undefined, _req: unknown, _res: unknown, next: (err?: unknown) => void): void {
  next(err?.type === 'entity.parse.failed' ? new BadRequestException({ error: 'bad_request', message: 'The request body is not valid JSON.' }) : err);
}

/**
 * Fastify's router answers a URL it cannot decode (`%E0%A4%A`) or a too-long parameter itself,
 * before any Nest filter, quoting the path: answered in the error shape with a fixed message.
 */
function withoutUrlEcho(error: { statusCode?: number }, _req: unknown, fastifyReply: unknown): void {
  const reply = fastifyReply as { code(s: number): unknown; header(n: string, v: string): unknown; send(b: object): unknown };
  const refused = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500;
  reply.code(refused ? 400 : 500);
  reply.header('Cache-Control', 'no-store');
  reply.header('Content-Type', 'application/json; charset=utf-8');
  reply.send(refused ? { error: 'bad_request', message: 'The request is not valid.' } : { error: 'internal_error', message: 'Internal error.' });
}

/** Options for `NestFactory.create` / `createNestApplication` (Express takes its TLS options here). */
export function nestApplicationOptions(http: HttpSettings, extra: NestApplicationOptions = {}): NestApplicationOptions {
  return {
    ...(http.adapter === 'express' ? { bodyParser: false } : {}),
    ...(http.adapter === 'express' && http.tls ? { httpsOptions: tlsServerOptions(http.tls) } : {}),
    ...extra,
  };
}

/** Applies the HTTP settings every instance of the example app shares (also used by tests); `accessLog` writes each request's access line. */
export async function configureHttp(app: INestApplication, http: HttpSettings, accessLog?: OtpAccessLog): Promise<INestApplication> {
  // Request id, helmet's security headers (computed once) and the access line in the first hook, before body parsing.
  assignRequestIds(app, http, securityHeaders(), accessLog);
  // The console's headers replace helmet's on every answer under /admin, before any guard can refuse.
  if (http.adapter === 'fastify') {
    (app as NestFastifyApplication).getHttpAdapter().getInstance().addHook('onRequest', (req, reply, done) => {
      if (isConsoleUrl(req.url)) reply.headers(CONSOLE_HEADERS);
      done();
    });
  } else {
    const express = app as NestExpressApplication;
    express.use((req: { originalUrl?: string }, res: { setHeader(name: string, value: string): void }, next: () => void) => {
      if (isConsoleUrl(req.originalUrl)) for (const [name, value] of Object.entries(CONSOLE_HEADERS)) res.setHeader(name, value);
      next();
    });
    express.useBodyParser('json', { limit: BODY_LIMIT_BYTES, strict: true });
    express.use(withoutBodyEcho);
    express.disable('x-powered-by');
    express.set('etag', false);
    express.set('trust proxy', http.trustProxy);
  }
  // Body-parser errors and unknown routes get the same error shape as everything else.
  app.useGlobalFilters(new OtpExceptionFilter(app.get(HttpAdapterHost)));
  // Global guards run in the order registered. With OPERATOR_PORT the listener check comes first:
  // a route on the wrong listener is a 404 whatever its body, never a 415 that says it exists.
  if (http.operator) app.useGlobalGuards(new OperatorListenerGuard(app.get(Reflector)));
  // JSON bodies only, on every route: a form or text/plain body is what any web page can send cross-site (415).
  app.useGlobalGuards(new JsonBodyGuard());
  if (http.openApi) setupOpenApi(app);
  app.enableShutdownHooks();
  return app;
}
