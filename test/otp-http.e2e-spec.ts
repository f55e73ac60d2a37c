import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import type { TestDatabase } from './support/test-database';
import { OtpMailer, OtpModule, OtpService } from '../src/otp';
import { OtpMailDispatcher } from '../src/otp/mail/outbox/otp-mail.dispatcher';
import { DevMailboxMailer } from '../src/otp/mail/dev-mailbox.mailer';
import { RELAXED_RATE_LIMITS, testKeyLine } from './support/test-app';
import { BootedTestApp, testApp } from './support/test-app.builder';

describe('OTP routes over HTTP', () => {
  let db: TestDatabase;
  let t: BootedTestApp;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    t = await testApp().withDatabase().env(RELAXED_RATE_LIMITS).boot();
    db = t.db;
    http = request(t.app.getHttpServer());
  });
  afterAll(async () => t?.close());

  let n = 0;
  const email = () => `http${++n}.${Date.now()}@example.com`;

  async function challenge(body: Record<string, unknown> = {}) {
    const res = await http.post('/auth/otp/challenges').send({ email: email(), ...body }).expect(202);
    return { id: res.body.challengeId as string, code: await t.codeFor(res.body.challengeId) };
  }

  async function snapshot(): Promise<string> {
    const rows = await db.dataSource.query(
      `SELECT (SELECT coalesce(string_agg(row_to_json(c)::text, '|' ORDER BY id), '') FROM otp_challenges c) AS c,
              (SELECT coalesce(string_agg(row_to_json(b)::text, '|' ORDER BY recipient_index), '') FROM otp_failure_budgets b) AS b`,
    );
    return JSON.stringify(rows);
  }

  it('R3: issuing answers 202 with the challenge shape and Cache-Control: no-store', async () => {
    const res = await http.post('/auth/otp/challenges').send({ email: email(), purpose: 'login', locale: 'pt-BR' }).expect(202);
    expect(Object.keys(res.body).sort()).toEqual(['challengeId', 'expiresAt', 'resendAvailableAt']);
    expect(res.body.challengeId).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(res.body.expiresAt).getTime()).toBeGreaterThan(Date.now());
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('verifies the mailed code once with 200 and no-store', async () => {
    const c = await challenge();
    const ok = await http.post(`/auth/otp/challenges/${c.id}/verify`).send({ code: c.code }).expect(200);
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(ok.body.purpose).toBe('login');
    await http.post(`/auth/otp/challenges/${c.id}/verify`).send({ code: c.code }).expect(401);
  });

  it('R14: wrong, expired, superseded, consumed, unknown and wrong-context failures get one identical 401 body', async () => {
    const bodies: unknown[] = [];
    const verify = async (id: string, body: Record<string, unknown>) => {
      const res = await http.post(`/auth/otp/challenges/${id}/verify`).send(body).expect(401);
      expect(res.headers['cache-control']).toBe('no-store');
      bodies.push(res.body);
    };
    const wrong = await challenge();
    await verify(wrong.id, { code: wrong.code === '000000' ? '000001' : '000000' });

    const expired = await challenge();
    await db.dataSource.query(`UPDATE otp_challenges SET expires_at = now() - interval '1 second' WHERE id = $1`, [expired.id]);
    await verify(expired.id, { code: expired.code });

    const address = email();
    const first = await http.post('/auth/otp/challenges').send({ email: address }).expect(202);
    const firstCode = await t.codeFor(first.body.challengeId);
    await http.post('/auth/otp/challenges').send({ email: address }).expect(202);
    await verify(first.body.challengeId, { code: firstCode });

    const consumed = await challenge();
    await http.post(`/auth/otp/challenges/${consumed.id}/verify`).send({ code: consumed.code }).expect(200);
    await verify(consumed.id, { code: consumed.code });

    await verify('6f1c1f4e-0000-4000-8000-000000000000', { code: '123456' });

    // A host purpose: the host issues it (OtpService.issue), the client verifies it on the public route.
    const transfer = await t.app.get(OtpService).issue({ email: email(), purpose: 'transfer', context: { amount: 10, to: 'alice' } });
    await verify(transfer.challengeId, { code: await t.codeFor(transfer.challengeId), context: { amount: 11, to: 'alice' } });

    expect(bodies).toHaveLength(6);
    for (const body of bodies) expect(body).toEqual({ error: 'otp_invalid', message: expect.any(String) });
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
  });

  /** Headers of an answer that must not tell two refusals apart (the per-IP counter and the clock move on). */
  const comparableHeaders = (r: request.Response) =>
    Object.fromEntries(Object.entries(r.headers).filter(([k]) => !['date', 'x-request-id', 'x-ratelimit-remaining', 'x-ratelimit-reset'].includes(k)));

  it('R36: the public route refuses a host purpose (transfer) byte for byte as an undeclared one, and writes or mails nothing', async () => {
    const address = email();
    await t.app.get(OtpMailDispatcher).whenIdle();
    const before = await snapshot();
    const mails = t.mailbox.list().length;
    const context = { amount: 10, to: 'FRAUD ALERT call 0800 555 0100 now' };
    const host = await http.post('/auth/otp/challenges').send({ email: address, purpose: 'transfer', context });
    const undeclared = await http.post('/auth/otp/challenges').send({ email: address, purpose: 'wire', context });
    const plainHost = await http.post('/auth/otp/challenges').send({ email: address, purpose: 'transfer', context: { amount: 10, to: 'alice' } });
    expect(host.status).toBe(400);
    expect(host.body).toEqual({ error: 'otp_purpose_unknown', message: expect.any(String) });
    expect(host.text).toBe(undeclared.text);
    expect(plainHost.text).toBe(undeclared.text);
    expect(comparableHeaders(host)).toEqual(comparableHeaders(undeclared));
    await t.app.get(OtpMailDispatcher).whenIdle();
    expect(await snapshot()).toBe(before);
    expect(t.mailbox.list()).toHaveLength(mails);
  });

  it('R36: the public route refuses a context for a purpose that declares no contextFields (public step-up): 400 in the context error shape, nothing written or mailed', async () => {
    // Its own keys, so its own database (the index key fingerprint).
    const t = await testApp().withDatabase().module((env) => Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: env.DATABASE_URL, autoLoadEntities: true }),
        OtpModule.forRoot({
          keys: testKeyLine(), encryptionKeys: testKeyLine('e'), operatorRoutes: false,
          purposes: { login: {}, 'step-up': {}, survey: { contextFields: { score: 'number' } } },
        }),
      ],
    }).setLogger(false as never).compile()).boot();
    const { app, db: own } = t;
    try {
      const client = request(app.getHttpServer());
      const mailbox = app.get(OtpMailer) as DevMailboxMailer;
      const address = email();
      const rows = async () => own.dataSource.query(`SELECT (SELECT count(*) FROM otp_challenges) AS c, (SELECT count(*) FROM otp_mail_outbox) AS m`);
      const before = await rows();
      for (const [purpose, context] of [['step-up', { amount: 5000, to: 'attacker' }], ['login', { note: 'hello' }]] as const) {
        const res = await client.post('/auth/otp/challenges').send({ email: address, purpose, context }).expect(400);
        expect(res.body).toEqual({ error: 'otp_context_invalid', message: expect.any(String) });
      }
      // An empty context is already refused by the body's validation.
      await client.post('/auth/otp/challenges').send({ email: address, purpose: 'step-up', context: {} }).expect(400);
      await app.get(OtpMailDispatcher).whenIdle();
      expect(await rows()).toEqual(before);
      expect(mailbox.list()).toHaveLength(0);
      // Without a context it is an ordinary public code; a purpose that declares its fields still takes them.
      await client.post('/auth/otp/challenges').send({ email: address, purpose: 'step-up' }).expect(202);
      await client.post('/auth/otp/challenges').send({ email: email(), purpose: 'survey', context: { score: 3 } }).expect(202);
    } finally {
      await t.close();
    }
  });

  it('R11: a refused host purpose spends no recipient or global send budget', async () => {
    const strict = await testApp()
      .database(db)
      .env({ ...RELAXED_RATE_LIMITS, RATE_LIMIT_RECIPIENT_DAILY: '1/86400', RATE_LIMIT_GLOBAL_SEND: '1/60' })
      .boot();
    try {
      const client = request(strict.app.getHttpServer());
      const address = email();
      for (let i = 0; i < 3; i++) {
        await client.post('/auth/otp/challenges').send({ email: address, purpose: 'transfer', context: { amount: 10, to: 'alice' } }).expect(400);
      }
      await client.post('/auth/otp/challenges').send({ email: address }).expect(202);
    } finally {
      await strict.close();
    }
  });

  it('R3: a code in the query string is refused with 400 and consumes nothing', async () => {
    const c = await challenge();
    const before = await snapshot();
    const res = await http.post(`/auth/otp/challenges/${c.id}/verify?code=${c.code}`).send({ code: c.code }).expect(400);
    expect(res.body.error).toBe('query_not_allowed');
    expect(await snapshot()).toBe(before);
    await http.post(`/auth/otp/challenges/${c.id}/verify`).send({ code: c.code }).expect(200);
  });

  const malformed: [string, string, string | Record<string, unknown>, number][] = [
    ['malformed JSON', '/auth/otp/challenges', '{"email": ', 400],
    ['an unknown field', '/auth/otp/challenges', { email: 'a@example.com', admin: true }, 400],
    ['a missing email', '/auth/otp/challenges', {}, 400],
    ['an invalid email', '/auth/otp/challenges', { email: 'not-an-email' }, 400],
    ['a CR/LF in the email', '/auth/otp/challenges', { email: 'a@example.com\r\nBcc: x@evil.test' }, 400],
    ['an address that NFKC would change (fullwidth letters)', '/auth/otp/challenges', { email: '\uff41lice@example.com' }, 400],
    ['a non-string email', '/auth/otp/challenges', { email: ['a@example.com'] }, 400],
    ['an undeclared purpose', '/auth/otp/challenges', { email: 'a@example.com', purpose: 'wire' }, 400],
    ['a host purpose without context', '/auth/otp/challenges', { email: 'a@example.com', purpose: 'transfer' }, 400],
    ['R36: a host purpose with a well-formed context', '/auth/otp/challenges', { email: 'a@example.com', purpose: 'transfer', context: { amount: 1, to: 'bob' } }, 400],
    ['a nested context', '/auth/otp/challenges', { email: 'a@example.com', context: { a: { b: 1 } } }, 400],
    ['R36: a context with a link to print in the mail', '/auth/otp/challenges', { email: 'a@example.com', context: { to: 'https://evil.test/pay' } }, 400],
    ['a header-injection locale', '/auth/otp/challenges', { email: 'a@example.com', locale: 'en\r\nX: y' }, 400],
    ['an oversized body', '/auth/otp/challenges', { email: 'a@example.com', pad: 'x'.repeat(20_000) }, 413],
    ['an invalid challenge id', '/auth/otp/challenges/not-a-uuid/verify', { code: '123456' }, 400],
    ['a short code', '/auth/otp/challenges/6f1c1f4e-0000-4000-8000-000000000000/verify', { code: '12345' }, 400],
    ['a numeric code', '/auth/otp/challenges/6f1c1f4e-0000-4000-8000-000000000000/verify', { code: 123456 }, 400],
    ['an unknown verify field', '/auth/otp/challenges/6f1c1f4e-0000-4000-8000-000000000000/verify', { code: '123456', x: 1 }, 400],
    ['a resend body field', '/auth/otp/challenges/6f1c1f4e-0000-4000-8000-000000000000/resend', { email: 'a@example.com' }, 400],
  ];

  it.each(malformed)('rejects %s with a clear 4xx and writes nothing', async (_name, path, body, status) => {
    const before = await snapshot();
    const req = http.post(path).set('content-type', 'application/json');
    const res = await (typeof body === 'string' ? req.send(body) : req.send(body)).expect(status);
    expect(res.body).toEqual(expect.objectContaining({ error: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) }));
    expect(JSON.stringify(res.body)).not.toMatch(/at \w+ \(|node_modules|QueryFailedError/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(await snapshot()).toBe(before);
  });

  it('resend answers 202 with the issuing shape once the cooldown passed, 429 with Retry-After before', async () => {
    const c = await challenge();
    const early = await http.post(`/auth/otp/challenges/${c.id}/resend`).expect(429);
    expect(Number(early.headers['retry-after'])).toBeGreaterThan(0);
    expect(early.body.error).toBe('otp_throttled');
    await db.dataSource.query(`UPDATE otp_challenges SET resend_available_at = now() WHERE id = $1`, [c.id]);
    const res = await http.post(`/auth/otp/challenges/${c.id}/resend`).expect(202);
    expect(Object.keys(res.body).sort()).toEqual(['challengeId', 'expiresAt', 'resendAvailableAt']);
    expect(res.body.challengeId).toBe(c.id);
  });

  it('R10: under an escalating delay verify answers 429 otp_throttled with Retry-After and no-store, and changes nothing', async () => {
    const address = email();
    const first = await http.post('/auth/otp/challenges').send({ email: address }).expect(202);
    const code = await t.codeFor(first.body.challengeId);
    const wrong = code === '000000' ? '000001' : '000000';
    for (let i = 0; i < 5; i++) await http.post(`/auth/otp/challenges/${first.body.challengeId}/verify`).send({ code: wrong }).expect(401);
    const fresh = await http.post('/auth/otp/challenges').send({ email: address }).expect(202);
    const freshCode = await t.codeFor(fresh.body.challengeId);
    const before = await snapshot();
    const res = await http.post(`/auth/otp/challenges/${fresh.body.challengeId}/verify`).send({ code: freshCode }).expect(429);
    expect(res.body).toEqual({ error: 'otp_throttled', message: expect.any(String) });
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(await snapshot()).toBe(before);
  });

  it('a language tag that passes the pattern but that Intl refuses still gets its mail, in the default language', async () => {
    const res = await http.post('/auth/otp/challenges').send({ email: email(), locale: 'de-1996-1996' }).expect(202);
    await t.codeFor(res.body.challengeId); // delivered, not retried until its deadline
    expect(t.mailbox.list().find((m) => m.challengeId === res.body.challengeId)?.locale).toBeUndefined();
  });

  it('the development mailbox lists messages newest first', async () => {
    const a = await challenge();
    const b = await challenge();
    const res = await http.get('/dev/mailbox').expect(200);
    const ids = (res.body as { challengeId: string }[]).map((m) => m.challengeId);
    expect(ids.indexOf(b.id)).toBeLessThan(ids.indexOf(a.id));
  });
});

describe('the development mailbox off this machine', () => {
  it('answers 404 to a client that is not on loopback (behind a trusted proxy)', async () => {
    const t = await testApp().withDatabase().env({ TRUST_PROXY: 'loopback' }).boot();
    const db = t.db;
    try {
      const http = request(t.app.getHttpServer());
      await http.get('/dev/mailbox').expect(200);
      await http.get('/dev/mailbox').set('X-Forwarded-For', '203.0.113.9').expect(404);
    } finally {
      await t.close();
    }
  });
});

describe('the development mailbox in production', () => {
  it('answers 404 when NODE_ENV=production', async () => {
    const t = await testApp().withDatabase().env({ NODE_ENV: 'production', TLS_TERMINATED_BY_PROXY: 'true' }).boot();
    const db = t.db;
    try {
      const res = await request(t.app.getHttpServer()).get('/dev/mailbox').expect(404);
      expect(res.body).toEqual({ error: 'not_found', message: expect.any(String) });
    } finally {
      await t.close();
    }
  });
});
