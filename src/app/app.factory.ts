import { DynamicModule, INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { configureHttp, createHttpAdapter, nestApplicationOptions } from './http/http-adapter';
import { HttpSettings, httpSettingsFromEnv } from './http/http-settings';

export { BODY_LIMIT_BYTES } from './http/http-adapter';

/** Largest JSON body accepted; OTP requests are a few hundred bytes. */
export const BODY_LIMIT = '16kb';

/**
 * Applies the HTTP settings every instance of the example app shares (also used
 * by tests): body limit, helmet, trusted proxies, error filter, OpenAPI at /docs.
 */
export function configureApp(app: INestApplication, http: HttpSettings = httpSettingsFromEnv({})): Promise<INestApplication> {
  return configureHttp(app, http);
}

/** The example app on the adapter chosen by `HTTP_ADAPTER` (express or fastify). */
export async function createApp(module: DynamicModule, env: NodeJS.ProcessEnv = process.env): Promise<INestApplication> {
  const http = httpSettingsFromEnv(env);
  const app = await NestFactory.create(module, createHttpAdapter(http), nestApplicationOptions(http, { logger: ['error', 'warn', 'log'] }));
  return configureApp(app, http);
}
