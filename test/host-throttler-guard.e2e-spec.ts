import { Controller, HttpCode, Injectable, Param, Post, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { SkipThrottle, Throttle, ThrottlerRequest, ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import request from 'supertest';
import { OtpModule, OtpRateLimited, OtpThrottlerGuard } from '../src/otp';
import { OtpKeyring } from '../src/otp/crypto/otp-keyring';
import { OtpChallengeStore } from '../src/otp/persistence/otp-challenge.store';
import { OtpSchemaState } from '../src/otp/persistence/otp-schema.state';
import { OtpMemoryThrottlerStorage } from '../src/otp/rate-limit/memory-throttler-storage';
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

  it.each([['a v4 id (looked up)', () => '00000000-0000-4000-8000-000000000000'], ['a UUIDv8 id (not looked up)', () => t.app.get(OtpKeyring).newChallengeId('host-index')]])(
    'a verify-scoped host route with %s while the schema is out of date is 503 otp_unavailable with Retry-After, not a 500', async (_name, idOf) => {
      const id = idOf();
      await http().post(`/host/codes/${id}/check`).expect(200);
      t.app.get(OtpSchemaState).markOutOfDate(['SomePendingMigration']);
      const res = await http().post(`/host/codes/${id}/check`);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ error: 'otp_unavailable', message: expect.any(String) });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    });

  it('R11: a verify-scoped host route with a UUIDv8 id reads no challenge and counts ip-verify, then verify-recipient-ip (a storage without incrementInOrder: one key at a time)', async () => {
    const id = t.app.get(OtpKeyring).newChallengeId('host-index-2');
    const lookups = jest.spyOn(t.app.get(OtpChallengeStore), 'findRateLimitSubject');
    const counted = jest.spyOn(storage, 'increment');
    try {
      await http().post(`/host/codes/${id}/check`).expect(200);
      expect(counted.mock.calls.map((args) => args[4])).toEqual(['ip-verify', 'verify-recipient-ip']);
      expect(lookups).not.toHaveBeenCalled();
    } finally {
      counted.mockRestore();
      lookups.mockRestore();
    }
  });
});

/** A host's subclass that hooks the per-throttler step, as the base class allows. */
@Injectable()
class CountingThrottlerGuard extends OtpThrottlerGuard {
  readonly seen: string[] = [];

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    this.seen.push(props.throttler.name ?? 'default');
    return super.handleRequest(props);
  }
}

/** `@SkipThrottle` and `@Throttle` per throttler name, as `@nestjs/throttler` documents them. */
@Controller('host-overrides')
@UseGuards(OtpThrottlerGuard)
class HostOverridesController {
  @Post('skipped')
  @HttpCode(202)
  @OtpRateLimited('issue')
  @SkipThrottle({ 'ip-send': true })
  skipped(): { ok: true } {
    return { ok: true };
  }

  @Post('loose')
  @HttpCode(202)
  @OtpRateLimited('resend')
  @Throttle({ 'ip-send': { limit: 3, ttl: 30_000 } })
  loose(): { ok: true } {
    return { ok: true };
  }
}

@Controller('host-subclass')
@UseGuards(CountingThrottlerGuard)
class HostSubclassController {
  @Post(':id/check')
  @HttpCode(200)
  @OtpRateLimited('verify')
  check(): { ok: true } {
    return { ok: true };
  }
}

describe.each(HTTP_ADAPTERS)('OtpThrottlerGuard on host routes: @SkipThrottle, @Throttle, a subclass, one storage call (%s)', (adapter) => {
  let t: BootedTestApp;
  let storage: OtpMemoryThrottlerStorage;
  const http = () => request(t.app.getHttpServer());

  beforeAll(async () => {
    storage = new OtpMemoryThrottlerStorage({ maxKeys: 10_000 });
    t = await testApp().withDatabase().adapter(adapter).bare().module((env) => Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: env.DATABASE_URL, autoLoadEntities: true }),
        OtpModule.forRoot({
          keys: testKeyLine(), encryptionKeys: testKeyLine('e'), operatorRoutes: false,
          rateLimits: { ipSend: { limit: 1, ttlSeconds: 60 }, ipVerify: { limit: 2, ttlSeconds: 60 }, storage },
        }),
      ],
      controllers: [HostOverridesController, HostSubclassController],
      providers: [CountingThrottlerGuard],
    }).setLogger(false as never).compile()).boot();
  });
  afterAll(async () => {
    await t?.close();
    storage?.onModuleDestroy();
  });

  it('@SkipThrottle({ \'ip-send\': true }) skips that throttler: no count, no headers', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await http().post('/host-overrides/skipped').expect(202);
      expect(res.headers['x-ratelimit-limit']).toBeUndefined();
    }
  });

  it('R11: @Throttle({ \'ip-send\': ... }) sets the limit and window of that throttler on the route', async () => {
    const counted = jest.spyOn(storage, 'incrementInOrder');
    try {
      for (let i = 0; i < 3; i++) expect((await http().post('/host-overrides/loose').expect(202)).headers['x-ratelimit-limit']).toBe('3');
      const refused = await http().post('/host-overrides/loose');
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(25);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(30);
      // One storage call per request, of the route's one throttler.
      expect(counted).toHaveBeenCalledTimes(4);
      expect(counted.mock.calls.every(([hits]) => hits.length === 1 && hits[0].throttlerName === 'ip-send' && hits[0].ttl === 30_000)).toBe(true);
    } finally {
      counted.mockRestore();
    }
  });

  it('a subclass overriding handleRequest is called per throttler of the scope, and the limits still hold', async () => {
    const guard = t.app.get(CountingThrottlerGuard);
    const id = '00000000-0000-4000-8000-000000000001';
    await http().post(`/host-subclass/${id}/check`).expect(200);
    expect(guard.seen.filter((n) => n !== 'ip-send' && n !== 'operator')).toEqual(['ip-verify', 'verify-recipient-ip']);
    await http().post(`/host-subclass/${id}/check`).expect(200);
    expect((await http().post(`/host-subclass/${id}/check`)).status).toBe(429);
  });
});
