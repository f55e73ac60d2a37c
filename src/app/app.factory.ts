import { DynamicModule, INestApplication } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as PinoLogger } from 'nestjs-pino';
import { OtpExceptionFilter } from '../otp';

/** Largest JSON body accepted; OTP requests are a few hundred bytes. */
export const BODY_LIMIT = '16kb';

/** Applies the HTTP settings every instance of the example app shares (also used by tests). */
export function configureApp(app: INestApplication): INestApplication {
  const express = app as NestExpressApplication;
  express.useBodyParser('json', { limit: BODY_LIMIT, strict: true });
  express.disable('x-powered-by');
  express.set('etag', false);
  // Body-parser errors and unknown routes get the same error shape as everything else.
  app.useGlobalFilters(new OtpExceptionFilter(app.get(HttpAdapterHost)));
  app.enableShutdownHooks();
  // Every Nest log line goes through pino (JSON, redacted) when the logging module is present.
  const pino = findPinoLogger(app);
  if (pino) app.useLogger(pino);
  return app;
}

function findPinoLogger(app: INestApplication): PinoLogger | undefined {
  try {
    return app.get(PinoLogger, { strict: false });
  } catch {
    return undefined;
  }
}

export async function createApp(module: DynamicModule): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module, { bodyParser: false, bufferLogs: true });
  return configureApp(app);
}
