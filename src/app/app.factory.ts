import { DynamicModule, INestApplication } from '@nestjs/common';
import { HttpAdapterHost, NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
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
  return app;
}

export async function createApp(module: DynamicModule): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(module, { bodyParser: false, logger: ['error', 'warn', 'log'] });
  return configureApp(app);
}
