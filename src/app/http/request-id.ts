import type { IncomingMessage, ServerResponse } from 'node:http';
import { INestApplication } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { OtpAccessLog, otpRequestId } from 'nestjs-email-otp';
import { HttpSettings } from './http-settings';

/** Health probes and scrapes would drown everything else: no access line for them. */
function quiet(method: string | undefined, url: string | undefined): boolean {
  if (method !== 'GET' || url === undefined) return false;
  const path = url.split('?', 1)[0];
  return path === '/health' || path === '/metrics';
}

/**
 * Gives every request its id before anything else runs (body parsing included, so
 * refusals carry it too) and echoes it in `X-Request-Id`; sets `headers` (the security
 * headers) in the same place. Fastify has already named the request through
 * `genReqId: otpRequestId`; Express gets a first middleware doing the same.
 * The audit context then keeps `req.id`. With `accessLog` (the logging module's), the same hook
 * starts each request's access line, so it covers refusals before any Nest middleware too.
 */
export function assignRequestIds(app: INestApplication, http: HttpSettings, headers: ReadonlyArray<readonly [string, string]> = [], accessLog?: OtpAccessLog): void {
  if (http.adapter === 'fastify') {
    const fastify = (app as NestFastifyApplication).getHttpAdapter().getInstance();
    fastify.addHook('onRequest', (req, reply, done) => {
      for (const [name, value] of headers) reply.raw.setHeader(name, value);
      reply.header('X-Request-Id', req.id);
      if (accessLog && !quiet(req.raw.method, req.raw.url)) accessLog(req.raw, reply.raw, req.id);
      done();
    });
    return;
  }
  (app as NestExpressApplication).use((req: IncomingMessage & { id?: unknown }, res: ServerResponse, next: () => void) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    req.id = otpRequestId(req);
    res.setHeader('X-Request-Id', req.id as string);
    if (accessLog && !quiet(req.method, req.url)) accessLog(req, res, req.id as string);
    next();
  });
}
