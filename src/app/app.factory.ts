import { DynamicModule, INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Logger as PinoLogger } from 'nestjs-pino';
import { OtpAccessLog } from 'nestjs-email-otp';
import { APP_ACCESS_LOG } from './app.logging';
import { configureHttp, createHttpAdapter, nestApplicationOptions } from './http/http-adapter';
import { HttpSettings, httpSettingsFromEnv } from './http/http-settings';
import { listenOperator } from './http/operator-listener';

export { BODY_LIMIT_BYTES } from './http/http-adapter';
export { operatorServerOf } from './http/operator-listener';

const SETTINGS = new WeakMap<INestApplication, HttpSettings>();

/**
 * Applies the HTTP settings every instance of the example app shares (also used
 * by tests): body limit, helmet, trusted proxies, error filter, OpenAPI at /docs,
 * and every Nest log line through pino (JSON, redacted) when the logging module is present.
 */
export async function configureApp(app: INestApplication, http: HttpSettings = httpSettingsFromEnv({})): Promise<INestApplication> {
  await configureHttp(app, http, find<OtpAccessLog>(app, APP_ACCESS_LOG));
  SETTINGS.set(app, http);
  const pino = find<PinoLogger>(app, PinoLogger);
  if (pino) app.useLogger(pino);
  return app;
}

/** A provider of the logging module, if the app has it. */
function find<T>(app: INestApplication, token: symbol | (abstract new (...args: never[]) => unknown)): T | undefined {
  try {
    return app.get<T>(token as never, { strict: false });
  } catch {
    return undefined;
  }
}

/**
 * Listens on `port`/`host`, and on `OPERATOR_PORT`/`OPERATOR_HOST` for the operator
 * routes when set (README, "Operator routes"); both close with the app.
 */
export async function listenApp(app: INestApplication, port: number, host: string): Promise<void> {
  await app.listen(port, host);
  const http = SETTINGS.get(app);
  const operator = http && (await listenOperator(app, http))?.address();
  if (operator && typeof operator === 'object') new Logger('Main').log(`operator routes (/metrics, /admin/otp/audit/*, the /admin console) on ${operator.address}:${operator.port} only`);
}

/** Whether Swagger UI and the OpenAPI document are served (`OPENAPI`; off in production by default). */
export function apiDocsServed(app: INestApplication): boolean {
  return SETTINGS.get(app)?.openApi ?? false;
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
