import type { IncomingMessage, ServerResponse } from 'node:http';
import { INestApplication } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { otpRequestId } from 'nestjs-email-otp';
import { HttpSettings } from './http-settings';

/**
 * Gives every request its id before anything else runs (body parsing included, so
 * refusals carry it too) and echoes it in `X-Request-Id`; sets `headers` (the security
 * headers) in the same place. Fastify has already named the request through
 * `genReqId: otpRequestId`; Express gets a first middleware doing the same.
 * Logs (pino-http) and the audit context then keep `req.id`.
 */
export function assignRequestIds(app: INestApplication, http: HttpSettings, headers: ReadonlyArray<readonly [string, string]> = []): void {
  if (http.adapter === 'fastify') {
    const fastify = (app as NestFastifyApplication).getHttpAdapter().getInstance();
    fastify.addHook('onRequest', (req, reply, done) => {
      for (const [name, value] of headers) reply.raw.setHeader(name, value);
      reply.header('X-Request-Id', req.id);
      done();
    });
    return;
  }
  (app as NestExpressApplication).use((req: IncomingMessage & { id?: unknown }, res: ServerResponse, next: () => void) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    req.id = otpRequestId(req);
    res.setHeader('X-Request-Id', req.id as string);
    next();
  });
}
