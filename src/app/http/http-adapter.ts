import { INestApplication, NestApplicationOptions } from '@nestjs/common';
import { AbstractHttpAdapter, HttpAdapterHost } from '@nestjs/core';
import { ExpressAdapter, NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyHelmet from '@fastify/helmet';
import helmet from 'helmet';
import { OtpExceptionFilter, otpRequestId } from '../../otp';
import { HttpSettings, tlsServerOptions } from './http-settings';
import { setupOpenApi } from './openapi';
import { assignRequestIds } from './request-id';

/** Largest JSON body accepted; OTP requests are a few hundred bytes. */
export const BODY_LIMIT_BYTES = 16 * 1024;

/** Security headers on both adapters: HSTS for a year with subdomains, CSP, nosniff, frameguard. */
const HELMET_OPTIONS = {
  strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  referrerPolicy: { policy: 'no-referrer' as const },
};

/** The Nest HTTP adapter chosen by `HTTP_ADAPTER`, with the body limit, proxy trust and TLS settings. */
export function createHttpAdapter(http: HttpSettings): AbstractHttpAdapter {
  if (http.adapter === 'fastify') {
    return new FastifyAdapter({
      bodyLimit: BODY_LIMIT_BYTES,
      trustProxy: http.trustProxy,
      onProtoPoisoning: 'error',
      onConstructorPoisoning: 'error',
      // The request id follows the module's rule (a well-formed X-Request-Id or a fresh UUID), not Fastify's `req-1`.
      genReqId: otpRequestId,
      ...(http.tls ? { https: tlsServerOptions(http.tls) } : {}),
    });
  }
  return new ExpressAdapter();
}

/** Options for `NestFactory.create` / `createNestApplication` (Express takes its TLS options here). */
export function nestApplicationOptions(http: HttpSettings, extra: NestApplicationOptions = {}): NestApplicationOptions {
  return {
    ...(http.adapter === 'express' ? { bodyParser: false } : {}),
    ...(http.adapter === 'express' && http.tls ? { httpsOptions: tlsServerOptions(http.tls) } : {}),
    ...extra,
  };
}

/** Applies the HTTP settings every instance of the example app shares (also used by tests). */
export async function configureHttp(app: INestApplication, http: HttpSettings): Promise<INestApplication> {
  assignRequestIds(app, http);
  if (http.adapter === 'fastify') {
    const fastify = app as NestFastifyApplication;
    await fastify.register(fastifyHelmet as never, HELMET_OPTIONS);
  } else {
    const express = app as NestExpressApplication;
    express.useBodyParser('json', { limit: BODY_LIMIT_BYTES, strict: true });
    express.disable('x-powered-by');
    express.set('etag', false);
    express.set('trust proxy', http.trustProxy);
    express.use(helmet(HELMET_OPTIONS));
  }
  // Body-parser errors and unknown routes get the same error shape as everything else.
  app.useGlobalFilters(new OtpExceptionFilter(app.get(HttpAdapterHost)));
  setupOpenApi(app);
  app.enableShutdownHooks();
  return app;
}
