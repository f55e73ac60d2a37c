import { Body, Controller, HttpCode, Inject, INestApplication, Post, UseGuards } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppModule } from '../src/app/app.module';
import { OtpRateLimited, OtpService, OtpThrottlerGuard } from '../src/otp';
import { RELAXED_RATE_LIMITS, startTestHttpApp, testKeyLine } from './support/test-app';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { OTP_RESOLVED_OPTIONS } from '../src/otp/otp.module-definition';

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

/** A host provider reaching for the module's resolved options, keys included: it must not get them. */
@Controller('host/peek')
class HostPeekController {
  constructor(@Inject(OTP_RESOLVED_OPTIONS) readonly options: unknown) {}
}

describe('host routes limited with OtpThrottlerGuard and @OtpRateLimited', () => {
  let db: TestDatabase;
  let app: INestApplication;

  beforeAll(async () => {
    db = await createTestDatabase();
    const env = {
      DATABASE_URL: db.url, OTP_KEYS: testKeyLine(), OTP_ENCRYPTION_KEYS: testKeyLine('e'), LOG_LEVEL: 'warn',
      ...RELAXED_RATE_LIMITS, RATE_LIMIT_RECIPIENT: '2/60',
    };
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forEnv(env)], controllers: [HostSignInController] }).compile();
    app = await startTestHttpApp(moduleRef, env);
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('refuses the third code for one recipient with 429 and Retry-After, in the module error shape', async () => {
    const http = () => request(app.getHttpServer()).post('/host/sign-in-codes');
    const email = `host.${process.pid}.${Date.now()}@example.com`;
    await http().send({ email }).expect(202);
    await http().send({ email: email.toUpperCase() }).expect(202);
    const refused = await http().send({ email }).expect(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.body).toMatchObject({ error: 'otp_throttled' });
    // Refused by the guard, before the handler: no third challenge was written.
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
