import { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoLogger } from 'nestjs-pino';
import { configureHttp, createHttpAdapter, nestApplicationOptions } from './http/http-adapter';
import { HttpSettings, httpSettingsFromEnv } from './http/http-settings';

export { BODY_LIMIT_BYTES } from './http/http-adapter';

/**
 * Applies the HTTP settings every instance of the example app shares (also used
 * by tests): body limit, helmet, trusted proxies, error filter, OpenAPI at /docs,
 * and every Nest log line through pino (JSON, redacted) when the logging module is present.
 */
export async function configureApp(app: INestApplication, http: HttpSettings = httpSettingsFromEnv({})): Promise<INestApplication> {
  await configureHttp(app, http);
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

/** The example app on the adapter chosen by `HTTP_ADAPTER` (express or fastify). */
export async function createApp(module: DynamicModule, env: NodeJS.ProcessEnv = process.env): Promise<INestApplication> {
  const http = httpSettingsFromEnv(env);
  // A failed start is reported by the caller in one line: Nest neither exits nor prints the buffered logs then.
  const app = await NestFactory.create(module, createHttpAdapter(http), nestApplicationOptions(http, { bufferLogs: true, autoFlushLogs: false, abortOnError: false }));
  await configureApp(app, http);
  app.flushLogs();
  return app;
}
