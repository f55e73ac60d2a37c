/**
 * The "bare NestJS app" of the benchmark: the limit routes (`BenchLimitController`) in a Nest
 * application with nothing else, on the same adapter and a TypeORM data source with the same
 * pool size, so that limit / bare is what the example app's global pipeline (request ids,
 * helmet, request logging, the audit-context middleware, the global guards and filter, the
 * body limit) costs a request. Runs as a child process (`HTTP_ADAPTER`, `DATABASE_URL`,
 * `DATABASE_POOL_SIZE`); reports `{ type: 'ready', port }` over IPC.
 */
import 'reflect-metadata';
import { AddressInfo } from 'node:net';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BenchBareLimitController } from './limit.controller';

@Module({
  imports: [TypeOrmModule.forRoot({ type: 'postgres', url: process.env.DATABASE_URL, extra: { max: Number(process.env.DATABASE_POOL_SIZE ?? 10) }, logging: false })],
  controllers: [BenchBareLimitController],
})
class BareNestModule {}

async function main(): Promise<void> {
  const fastify = process.env.HTTP_ADAPTER === 'fastify';
  const app = fastify
    ? await NestFactory.create(BareNestModule, new FastifyAdapter(), { logger: ['error', 'warn'] })
    : await NestFactory.create(BareNestModule, { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  process.send!({ type: 'ready', port: (app.getHttpServer().address() as AddressInfo).port });
  process.on('message', (m: { cmd?: string }) => {
    if (m?.cmd === 'stop') app.close().finally(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
}

main().catch((err: Error) => {
  process.stderr.write(`bare Nest app failed to start: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
