import request from 'supertest';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { bootTestApp, HTTP_ADAPTERS, TestApp } from './support/test-app';

/** The OTP routes behave the same on Express and Fastify: flow, errors, headers, limits of the body. */
describe.each(HTTP_ADAPTERS)('OTP over HTTP on %s', (adapter) => {
  let db: TestDatabase;
  let t: TestApp;
  const server = () => t.app.getHttpServer();

  beforeAll(async () => {
    db = await createTestDatabase();
    // Throttlers loosened here: these tests are about the routes and the database rules, not the limits.
    t = await bootTestApp({ DATABASE_URL: db.url, HTTP_ADAPTER: adapter, RATE_LIMIT_RECIPIENT: '100/60' });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  let n = 0;
  const email = () => `http${++n}.${Date.now()}@example.com`;

  it('issues with 202 and verifies the mailed code with 200; answers carry no-store and helmet headers', async () => {
    const issued = await request(server()).post('/auth/otp/challenges').send({ email: email() }).expect(202);
    expect(issued.body).toEqual({ challengeId: expect.any(String), expiresAt: expect.any(String), resendAvailableAt: expect.any(String) });
    expect(issued.headers['cache-control']).toBe('no-store');
    expect(issued.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(issued.headers['x-content-type-options']).toBe('nosniff');
    expect(issued.headers['content-security-policy']).toContain("default-src 'self'");
    expect(issued.headers['x-powered-by']).toBeUndefined();
    const code = await t.codeFor(issued.body.challengeId);
    const verified = await request(server()).post(`/auth/otp/challenges/${issued.body.challengeId}/verify`).send({ code }).expect(200);
    expect(verified.body).toMatchObject({ challengeId: issued.body.challengeId, purpose: 'login' });
    expect(verified.headers['cache-control']).toBe('no-store');
  });

  it('R3: a query string is refused with 400 before anything runs', async () => {
    const res = await request(server()).post('/auth/otp/challenges?code=123456').send({ email: email() }).expect(400);
    expect(res.body).toEqual({ error: 'query_not_allowed', message: expect.any(String) });
  });

  it('malformed JSON, unknown fields and non-object bodies get 400 in the error shape, never 500', async () => {
    const bad = await request(server()).post('/auth/otp/challenges').set('content-type', 'application/json').send('{"email":');
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: 'bad_request', message: expect.any(String) });
    for (const body of ['[]', '"x"', '{"email":"a@example.com","admin":true}', '{"email":["a@example.com"]}', 'null']) {
      const res = await request(server()).post('/auth/otp/challenges').set('content-type', 'application/json').send(body);
      expect(res.status).toBe(400);
      expect(typeof res.body.error).toBe('string');
      expect(typeof res.body.message).toBe('string');
    }
    // A __proto__ key is refused (Fastify) or dropped (Express); either way nothing is polluted.
    const proto = await request(server()).post('/auth/otp/challenges').set('content-type', 'application/json')
      .send(`{"__proto__":{"polluted":1},"email":"${email()}"}`);
    expect([202, 400]).toContain(proto.status);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const noBody = await request(server()).post('/auth/otp/challenges').expect(400);
    expect(noBody.body.error).toBe('validation_failed');
  });

  it('a body over 16 kB gets 413 in the error shape', async () => {
    const res = await request(server()).post('/auth/otp/challenges').send({ email: email(), pad: 'x'.repeat(17 * 1024) }).expect(413);
    expect(res.body).toEqual({ error: 'payload_too_large', message: 'The request body is too large.' });
  });

  it('an unknown route gets 404 in the error shape', async () => {
    const res = await request(server()).get('/nowhere').expect(404);
    expect(res.body).toEqual({ error: 'not_found', message: expect.any(String) });
  });

  it('R11: resend inside the database cooldown answers 429 with Retry-After, with no rate-limit store involved', async () => {
    const issued = await request(server()).post('/auth/otp/challenges').send({ email: email() }).expect(202);
    const res = await request(server()).post(`/auth/otp/challenges/${issued.body.challengeId}/resend`).expect(429);
    expect(res.body).toEqual({ error: 'otp_throttled', message: expect.any(String) });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(50);
  });
});
