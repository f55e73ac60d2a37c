import { Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import request from 'supertest';
import { OtpModule, OtpRateLimited, OtpThrottlerGuard } from '../src/otp';
import { OtpSchemaState } from '../src/otp/persistence/otp-schema.state';
import { HTTP_ADAPTERS, testKeyLine } from './support/test-app';
import { BootedTestApp, testApp } from './support/test-app.builder';

/** A host's own routes, limited by the module's guard as docs/rate-limits.md shows. */
@Controller('host')
@UseGuards(OtpThrottlerGuard)
class HostLimitedController {
  @Post('codes')
  @HttpCode(202)
  @OtpRateLimited('issue')
  send(): { sent: true } {
    return { sent: true };
  }

  @Post('codes/:id/check')
  @HttpCode(200)
  @OtpRateLimited('verify')
  check(@Param('id') id: string): { id: string } {
    return { id };
  }
}

/** The in-memory counters, made to fail on demand (a Redis that stopped answering). */
class SwitchableStorage implements ThrottlerStorage {
  failing = false;
  private readonly inner = new ThrottlerStorageService();

  increment(...args: Parameters<ThrottlerStorage['increment']>): ReturnType<ThrottlerStorage['increment']> {
    if (this.failing) return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    return this.inner.increment(...args);
  }

  onApplicationShutdown(): void {
    this.inner.onApplicationShutdown();
  }
}

/**
 * A host app that registers no exception filter of its own (nor `OtpExceptionFilter`): what the guard
 * throws must already be the answer docs/rate-limits.md promises, whatever filter the host has.
 */
describe.each(HTTP_ADAPTERS)('OtpThrottlerGuard on a host route, in an app without OtpExceptionFilter (%s)', (adapter) => {
  let t: BootedTestApp;
  const storage = new SwitchableStorage();
  const http = () => request(t.app.getHttpServer());

  beforeAll(async () => {
    t = await testApp().withDatabase().adapter(adapter).bare().module((env) => Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: env.DATABASE_URL, autoLoadEntities: true }),
        OtpModule.forRoot({
          keys: testKeyLine(), encryptionKeys: testKeyLine('e'), operatorRoutes: false,
          rateLimits: { ipSend: { limit: 1, ttlSeconds: 60 }, storage },
        }),
      ],
      controllers: [HostLimitedController],
    }).setLogger(false as never).compile()).boot();
  });
  afterAll(async () => t?.close());
  afterEach(() => {
    storage.failing = false;
    t.app.get(OtpSchemaState).markOutOfDate([]);
  });

  it('R11: a host route over its limit gets 429 otp_throttled with Retry-After, not a 500', async () => {
    await http().post('/host/codes').expect(202);
    const refused = await http().post('/host/codes');
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: 'otp_throttled', message: 'Too many requests. Try again later.' });
    const retry = Number(refused.headers['retry-after']);
    expect(retry).toBeGreaterThanOrEqual(55);
    expect(retry).toBeLessThanOrEqual(60);
  });

  it('a rate-limit store that cannot answer is 503 otp_unavailable with Retry-After: the host route fails closed, not with a 500', async () => {
    storage.failing = true;
    const res = await http().post('/host/codes');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: 'otp_unavailable', message: expect.any(String) });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(res.text).not.toMatch(/ECONNREFUSED|6379/);
  });

  it('a verify-scoped host route while the schema is out of date is 503 otp_unavailable with Retry-After, not a 500', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    await http().post(`/host/codes/${id}/check`).expect(200);
    t.app.get(OtpSchemaState).markOutOfDate(['SomePendingMigration']);
    const res = await http().post(`/host/codes/${id}/check`);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ error: 'otp_unavailable', message: expect.any(String) });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});
