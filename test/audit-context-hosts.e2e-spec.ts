import { Controller, HttpCode, Injectable, MiddlewareConsumer, Module, NestMiddleware, NestModule, Post, RequestMethod } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { OtpAuditService, OtpModule } from '../src/otp';
import { currentAuditContext } from '../src/otp/request-context/audit-context';
import { HTTP_ADAPTERS, pollFor, testKeyLine } from './support/test-app';
import { BootedTestApp, testApp } from './support/test-app.builder';

/** What a host's own Nest middleware saw of the module's request context. */
const seenByHostMiddleware: (string | undefined)[] = [];

@Injectable()
class HostMiddleware implements NestMiddleware {
  use(_req: unknown, _res: unknown, next: () => void): void {
    seenByHostMiddleware.push(currentAuditContext()?.requestId);
    next();
  }
}

/** A host route that reads the context where a host's service would. */
@Controller('ctx-probe')
class ContextProbeController {
  @Post()
  @HttpCode(200)
  async probe(): Promise<{ requestId?: string; ip?: string; userAgent?: string }> {
    await new Promise((resolve) => setImmediate(resolve));
    const ctx = currentAuditContext();
    return { requestId: ctx?.requestId, ip: ctx?.ip, userAgent: ctx?.userAgent };
  }
}

@Module({ controllers: [ContextProbeController] })
class HostModule {}

/** The same, with a Nest middleware of the host's (a host without middie can have none: Nest refuses to start). */
@Module({ controllers: [ContextProbeController] })
class HostModuleWithMiddleware implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HostMiddleware).forRoutes({ path: '{*path}', method: RequestMethod.ALL });
  }
}

type Host = 'express' | 'fastify' | 'fastify without middie';

/** Each jest project tests its own adapter; the Fastify one also a host that turned Nest middleware off. */
const HOSTS: Host[] = HTTP_ADAPTERS.flatMap((a): Host[] => (a === 'fastify' ? ['fastify', 'fastify without middie'] : ['express']));

/**
 * R39: the module opens its request context (request id, IP, user agent) in any host, whatever the
 * host wires: its own Nest middleware, no exception filter or request-id hook of the module's, and on
 * Fastify even with Nest middleware turned off (`skipMiddie`, where a Nest middleware of the module's
 * made `init()` throw). Events of the request carry it, and a
 * host's code running for the request reads the same one.
 */
describe.each(HOSTS)('the request context in a host app of its own (%s)', (host) => {
  let t: BootedTestApp;
  const http = () => request(t.app.getHttpServer());

  beforeAll(async () => {
    // The builder's Express and Fastify adapters name requests by `otpRequestId`, as docs/logging.md asks of Fastify hosts.
    const builder = testApp().withDatabase().bare().module((env) => Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: env.DATABASE_URL, autoLoadEntities: true }),
        OtpModule.forRoot({ keys: testKeyLine(), encryptionKeys: testKeyLine('e'), operatorRoutes: false, rateLimits: { ipSend: { limit: 2, ttlSeconds: 60 } } }),
        host === 'fastify without middie' ? HostModule : HostModuleWithMiddleware,
      ],
    }).setLogger(false as never).compile());
    t = await (host === 'fastify without middie' ? builder.withoutMiddie() : builder).boot();
  });
  afterAll(async () => t?.close());

  it('R39: an issue request\'s audit rows carry its X-Request-Id, IP and user agent, and so does the throttler\'s refusal', async () => {
    const tag = `${host.replace(/ /g, '-')}-${Date.now()}`;
    const send = (n: number) => http().post('/auth/otp/challenges').set('X-Request-Id', `ctx-${tag}-${n}`).set('User-Agent', 'ctx-agent/1.0').send({ email: `ctx${n}.${tag}@example.com` });
    const first = await send(1).expect(202);
    await send(2).expect(202);
    await send(3).expect(429);

    const audit = t.app.get(OtpAuditService);
    const issued = await pollFor(async () => (await audit.list({ challengeId: first.body.challengeId })).find((r) => r.event === 'challenge.issued'));
    expect(issued).toMatchObject({ requestId: `ctx-${tag}-1`, userAgent: 'ctx-agent/1.0', ip: expect.stringMatching(/127\.0\.0\.1$/) });
    const httpRow = await pollFor(async () => (await audit.list({ event: 'otp.issue', limit: 1000 })).find((r) => r.requestId === `ctx-${tag}-1`));
    expect(httpRow).toMatchObject({ outcome: 'success', userAgent: 'ctx-agent/1.0' });
    const refused = await pollFor(async () => (await audit.list({ event: 'rate_limit.exceeded', limit: 1000 })).find((r) => r.requestId === `ctx-${tag}-3`));
    expect(refused).toMatchObject({ outcome: 'failure', userAgent: 'ctx-agent/1.0', ip: expect.stringMatching(/127\.0\.0\.1$/) });
  });

  it('R39: a host route reads the request\'s context after an await; a malformed X-Request-Id is replaced by a UUID; requests do not share one', async () => {
    const a = await http().post('/ctx-probe').set('X-Request-Id', 'probe-a').set('User-Agent', 'probe/1').expect(200);
    expect(a.body).toEqual({ requestId: 'probe-a', ip: expect.stringMatching(/127\.0\.0\.1$/), userAgent: 'probe/1' });
    const b = await http().post('/ctx-probe').set('X-Request-Id', 'bad id\twith spaces').expect(200);
    expect(b.body.requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const c = await http().post('/ctx-probe').expect(200);
    expect(c.body.requestId).not.toBe(b.body.requestId);
    // On Express the module's context is a Nest middleware, mounted before those of modules imported
    // after it. On Fastify it is a hook after middie: a host's Nest middleware runs before it opens.
    if (host === 'express') expect(seenByHostMiddleware).toContain('probe-a');
  });
});
