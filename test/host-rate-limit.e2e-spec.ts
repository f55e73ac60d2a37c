import { Body, Controller, HttpCode, Inject, INestApplication, Post, Req, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppModule } from '../src/app/app.module';
import { OtpRateLimited, OtpService, OtpThrottlerGuard } from '../src/otp';
import { HTTP_ADAPTERS, RELAXED_RATE_LIMITS, TestApp, testKeyLine } from './support/test-app';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { OTP_RESOLVED_OPTIONS } from '../src/otp/core/otp-options.tokens';
import { BootedTestApp, testApp } from './support/test-app.builder';
import { TestResources } from './support/test-resources';

/** A host route that sends codes itself, limited by the module's guard through the public barrel. */
@Controller('host/sign-in-codes')
@UseGuards(OtpThrottlerGuard)
class HostSignInController {
  constructor(private readonly otp: OtpService) {}

  @Post()
  @HttpCode(202)
  @OtpRateLimited('issue')
  async send(@Body() body: { email: string }): Promise<{ challengeId: string }> {
    const c = await this.otp.issue({ email: body.email });
    return { challengeId: c.challengeId };
  }
}

/**
 * A host route with a body of its own shape (`{ email, password }`) and no OTP guard:
 * only what `OtpService.issue` enforces limits it (the sign-in routes of a host look like this).
 */
@Controller('host/password-sign-in')
class HostPasswordSignInController {
  constructor(private readonly otp: OtpService) {}

  @Post()
  @HttpCode(202)
  async send(@Body() body: { email: string; password: string }, @Req() req: { ip?: string }): Promise<{ challengeId: string }> {
    const c = await this.otp.issue({ email: body.email, ip: req.ip });
    return { challengeId: c.challengeId };
  }
}

/** A host provider reaching for the module's resolved options, keys included: it must not get them. */
@Controller('host/peek')
class HostPeekController {
  constructor(@Inject(OTP_RESOLVED_OPTIONS) readonly options: unknown) {}
}

describe('host routes limited with OtpThrottlerGuard and @OtpRateLimited', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let t: BootedTestApp;

  beforeAll(async () => {
    t = await testApp()
      .withDatabase()
      .env({ OTP_KEYS: testKeyLine(), OTP_ENCRYPTION_KEYS: testKeyLine('e'), LOG_LEVEL: 'warn', ...RELAXED_RATE_LIMITS, RATE_LIMIT_RECIPIENT: '2/60' })
      .module((env) => Test.createTestingModule({ imports: [AppModule.forEnv(env)], controllers: [HostSignInController] }).compile())
      .boot();
    db = t.db;
    app = t.app;
  });
  afterAll(async () => t?.close());

  it('refuses the third code for one recipient with 429 and Retry-After, in the module error shape', async () => {
    const http = () => request(app.getHttpServer()).post('/host/sign-in-codes');
    const email = `host.${process.pid}.${Date.now()}@example.com`;
    await http().send({ email }).expect(202);
    await http().send({ email: email.toUpperCase() }).expect(202);
    const refused = await http().send({ email }).expect(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body).toMatchObject({ error: 'otp_throttled' });
    // Refused before anything is written (the guard counts the IP, the service the recipient): no third challenge.
    const [{ n }] = await db.dataSource.query(`SELECT count(*)::int AS n FROM otp_challenges`);
    expect(n).toBe(2);
    await http().send({ email: `other.${email}` }).expect(202);
  });

  it('the module exports what the guard needs but not its resolved options, which hold the keys', async () => {
    const env = { DATABASE_URL: db.url, OTP_KEYS: testKeyLine(), OTP_ENCRYPTION_KEYS: testKeyLine('e'), LOG_LEVEL: 'warn' };
    const compiling = Test.createTestingModule({ imports: [AppModule.forEnv(env)], controllers: [HostPeekController] }).compile();
    await expect(compiling).rejects.toThrow(/OTP_RESOLVED_OPTIONS/);
  });
});

describe.each(HTTP_ADAPTERS)('send limits where the code is issued: a host route with body { email, password } and no guard (%s)', (adapter) => {
  let db: TestDatabase;
  const open = new TestResources();

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(() => open.close());
  afterAll(async () => db?.drop());

  async function boot(env: NodeJS.ProcessEnv): Promise<TestApp> {
    return testApp()
      .database(db)
      .adapter(adapter)
      .env({ ...RELAXED_RATE_LIMITS, ...env })
      .controllers(HostPasswordSignInController)
      .closedBy(open)
      .boot();
  }

  let n = 0;
  const email = () => `hostpw${++n}.${process.pid}.${Date.now()}@example.com`;
  const hostIssue = (t: TestApp, address: string) =>
    request(t.app.getHttpServer()).post('/host/password-sign-in').send({ email: address, password: 'correct horse battery staple' });
  const publicIssue = (t: TestApp, address: string) => request(t.app.getHttpServer()).post('/auth/otp/challenges').send({ email: address });
  const challenges = async () => (await db.dataSource.query(`SELECT count(*)::int AS n FROM otp_challenges`))[0].n as number;

  function expectThrottled(res: request.Response, minRetry: number, maxRetry: number): void {
    expect(res.status).toBe(429);
    expect(res.body).toEqual({ error: 'otp_throttled', message: 'Too many requests. Try again later.' });
    const retry = Number(res.headers['retry-after']);
    expect(retry).toBeGreaterThanOrEqual(minRetry);
    expect(retry).toBeLessThanOrEqual(maxRetry);
    // Recipient counters never travel in headers.
    expect(Object.keys(res.headers).filter((h) => h.startsWith('x-ratelimit'))).toEqual([]);
  }

  it('R11: the per-recipient limit holds on the host route (per canonical address), and the refused request writes nothing', async () => {
    const t = await boot({ RATE_LIMIT_RECIPIENT: '1/60' });
    const address = email();
    await hostIssue(t, address).expect(202);
    const before = await challenges();
    expectThrottled(await hostIssue(t, address.toUpperCase()), 55, 60);
    expect(await challenges()).toBe(before);
    // The public route shares the recipient's counter (its 429 shows only the per-IP X-RateLimit headers).
    const onPublic = await publicIssue(t, address);
    expect(onPublic.status).toBe(429);
    expect(onPublic.headers['x-ratelimit-limit']).toBe(RELAXED_RATE_LIMITS.RATE_LIMIT_IP_SEND!.split('/')[0]);
    await hostIssue(t, email()).expect(202);
  });

  it('R11: the daily cap per recipient holds on the host route', async () => {
    const t = await boot({ RATE_LIMIT_RECIPIENT_DAILY: '2/86400' });
    const address = email();
    await hostIssue(t, address).expect(202);
    await publicIssue(t, address).expect(202);
    expectThrottled(await hostIssue(t, address), 86_000, 86_400);
  });

  it('R11: the global send budget holds on the host route, shared with the public route', async () => {
    const t = await boot({ RATE_LIMIT_GLOBAL_SEND: '3/60' });
    await hostIssue(t, email()).expect(202);
    await publicIssue(t, email()).expect(202);
    await hostIssue(t, email()).expect(202);
    const before = await challenges();
    expectThrottled(await hostIssue(t, email()), 55, 60);
    expect((await publicIssue(t, email())).status).toBe(429);
    expect(await challenges()).toBe(before);
  });
});
