import request from 'supertest';
import type { TestDatabase } from './support/test-database';
import { HTTP_ADAPTERS, RELAXED_RATE_LIMITS } from './support/test-app';
import { BootedTestApp, testApp } from './support/test-app.builder';

/** The OTP routes behave the same on Express and Fastify: flow, errors, headers, limits of the body. */
const ADMIN_TOKEN = 'adapters-admin-token-0123456789';
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describe.each(HTTP_ADAPTERS)('OTP over HTTP on %s', (adapter) => {
  let db: TestDatabase;
  let t: BootedTestApp;
  const server = () => t.app.getHttpServer();

  beforeAll(async () => {
    // Throttlers loosened here (the strictness tests send many requests): these tests are about the routes, not the limits.
    t = await testApp()
      .withDatabase()
      .adapter(adapter)
      .env({ ...RELAXED_RATE_LIMITS, RATE_LIMIT_RECIPIENT: '100/60', OTP_ADMIN_TOKEN: ADMIN_TOKEN })
      .boot();
    db = t.db;
  });
  afterAll(async () => t?.close());

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
    // A __proto__ key is refused, never dropped (see the strictness tests below); nothing is polluted.
    const proto = await request(server()).post('/auth/otp/challenges').set('content-type', 'application/json')
      .send(`{"__proto__":{"polluted":1},"email":"${email()}"}`);
    expect(proto.status).toBe(400);
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

  describe('input strictness (issue 9)', () => {
    const json = (path: string, body: string, headers: Record<string, string> = {}) =>
      request(server()).post(path).set({ 'content-type': 'application/json', ...headers }).send(body);
    const mailCount = () => t.mailbox.list().length;
    /** A live login token for `address`: issue, read the code, verify. */
    async function loginToken(address: string): Promise<string> {
      const issued = await request(server()).post('/auth/otp/challenges').send({ email: address }).expect(202);
      const code = await t.codeFor(issued.body.challengeId);
      return (await request(server()).post(`/auth/otp/challenges/${issued.body.challengeId}/verify`).send({ code }).expect(200)).body.token;
    }

    it('own constructor/prototype/__proto__ keys at any depth get 400 on every OTP and admin route, never 500, and send nothing', async () => {
      const live = await request(server()).post('/auth/otp/challenges').send({ email: email() }).expect(202);
      await t.codeFor(live.body.challengeId);
      const before = mailCount();
      const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
      const cases: [string, string, Record<string, string>?][] = [];
      for (const key of ['constructor', 'prototype', '__proto__']) {
        cases.push(
          ['/auth/otp/challenges', `{"email":"${email()}","${key}":1}`],
          ['/auth/otp/challenges', `{"email":"${email()}","context":{"${key}":1}}`],
          ['/auth/otp/challenges', `{"email":"${email()}","purpose":"transfer","context":{"amount":1,"to":"bob","${key}":{"prototype":{}}}}`],
          [`/auth/otp/challenges/${live.body.challengeId}/verify`, `{"code":"123456","${key}":1}`],
          [`/auth/otp/challenges/${live.body.challengeId}/verify`, `{"code":"123456","context":{"${key}":{"x":1}}}`],
          [`/auth/otp/challenges/${live.body.challengeId}/resend`, `{"${key}":{}}`],
          ['/admin/otp/audit/query', `{"${key}":1}`, admin],
          ['/admin/otp/audit/query', `{"from":{"${key}":{"prototype":{}}}}`, admin],
        );
      }
      const answers: string[] = [];
      for (const [path, body, headers] of cases) {
        const res = await json(path, body, headers);
        answers.push(`${path.replace(live.body.challengeId, ':id')} ${body.replace(/"[^"]*@example\.com"/, '"…"')} -> ${res.status} ${typeof res.body.error}`);
      }
      expect(answers).toEqual(answers.map((a) => a.replace(/-> .*$/, '-> 400 string')));
      expect(mailCount()).toBe(before);
    });

    it('a lone UTF-16 surrogate in any string field gets 400 on every OTP and admin route, never 500, and sends nothing', async () => {
      const live = await request(server()).post('/auth/otp/challenges').send({ email: email() }).expect(202);
      await t.codeFor(live.body.challengeId);
      const before = mailCount();
      const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
      const answers: string[] = [];
      for (const s of ['\\ud800', '\\udfff', 'x\\udc00y']) {
        const cases: [string, string, Record<string, string>?][] = [
          ['/auth/otp/challenges', `{"email":"a${s}@example.com"}`],
          ['/auth/otp/challenges', `{"email":"${email()}","locale":"en${s}"}`],
          ['/auth/otp/challenges', `{"email":"${email()}","purpose":"login${s}"}`],
          ['/auth/otp/challenges', `{"email":"${email()}","purpose":"transfer","context":{"amount":1,"to":"bob${s}"}}`],
          ['/auth/otp/challenges', `{"email":"${email()}","context":{"k${s}":1}}`],
          [`/auth/otp/challenges/${live.body.challengeId}/verify`, `{"code":"12345${s}"}`],
          [`/auth/otp/challenges/${live.body.challengeId}/verify`, `{"code":"123456","context":{"a":"${s}"}}`],
          ['/admin/otp/audit/query', `{"email":"a${s}@example.com"}`, admin],
          ['/admin/otp/audit/query', `{"event":"otp${s}"}`, admin],
        ];
        for (const [path, body, headers] of cases) {
          const res = await json(path, body, headers);
          answers.push(`${path.replace(live.body.challengeId, ':id')} ${body.replace(/"[^"]*@example\.com"/, '"…"')} -> ${res.status} ${typeof res.body.error}`);
        }
      }
      expect(answers).toEqual(answers.map((a) => a.replace(/-> .*$/, '-> 400 string')));
      expect(mailCount()).toBe(before);
    });

    it('a host route guarded by OtpGuard refuses a lone surrogate or a constructor key with 400 before redeeming the token', async () => {
      const address = email();
      const token = await loginToken(address);
      for (const body of ['{"email":"a\\ud800@example.com"}', `{"email":"${address}","constructor":1}`, `{"email":"${address}","__proto__":{}}`]) {
        const res = await json('/accounts/sessions', body, { 'x-otp-token': token });
        expect({ body, status: res.status }).toEqual({ body, status: 400 });
      }
      // The token was not spent by the refused requests.
      await json('/accounts/sessions', JSON.stringify({ email: address }), { 'x-otp-token': token }).expect(201);
    });

    it('only application/json bodies are accepted: other content types get 415 in the error shape on every route with a body, and send nothing', async () => {
      const address = email();
      const live = await request(server()).post('/auth/otp/challenges').send({ email: address }).expect(202);
      await t.codeFor(live.body.challengeId);
      const before = mailCount();
      const routes = ['/auth/otp/challenges', `/auth/otp/challenges/${live.body.challengeId}/verify`, `/auth/otp/challenges/${live.body.challengeId}/resend`,
        '/admin/otp/audit/query', '/accounts/sessions', '/accounts/sessions/password', '/accounts/password', '/payments/transfers'];
      const bodies: [string | undefined, string][] = [
        ['application/x-www-form-urlencoded', `email=${encodeURIComponent(address)}&code=123456`],
        ['text/plain', JSON.stringify({ email: address })],
        ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na@example.com\r\n--x--'],
        ['application/ld+json', JSON.stringify({ email: address })],
        ['application/json-patch+json', '[]'],
        ['application/jsonx', '{}'],
        [undefined, JSON.stringify({ email: address })],
      ];
      const answers: string[] = [];
      for (const path of routes) {
        for (const [type, body] of bodies) {
          let req = request(server()).post(path).set('authorization', `Bearer ${ADMIN_TOKEN}`);
          if (type) req = req.set('content-type', type);
          else req = req.set('content-length', String(Buffer.byteLength(body)));
          const res = type ? await req.send(body) : await req.send(Buffer.from(body)).unset('content-type');
          const shaped = typeof res.body.error === 'string' && typeof res.body.message === 'string';
          answers.push(`${path.replace(live.body.challengeId, ':id')} ${type ?? '(none)'} -> ${res.status} ${shaped ? res.body.error : res.text.slice(0, 60)}`);
        }
      }
      expect(answers).toEqual(answers.map((a) => a.replace(/-> .*$/, '-> 415 unsupported_media_type')));
      expect(mailCount()).toBe(before);
      // application/json with a utf-8 charset is accepted; a body-less POST without a content type is not a media-type error.
      await json('/auth/otp/challenges', JSON.stringify({ email: email() }), { 'content-type': 'application/json; charset=UTF-8' }).expect(202);
      const bodyless = await request(server()).post(`/auth/otp/challenges/${UNKNOWN_ID}/resend`);
      expect(bodyless.status).toBe(401);
    });

    it('routes match case-sensitively and without a trailing slash', async () => {
      const answers: string[] = [];
      for (const [method, path] of [['POST', '/AUTH/otp/challenges'], ['POST', '/auth/otp/challenges/'], ['POST', '/auth/OTP/challenges'],
        ['GET', '/METRICS'], ['GET', '/metrics/'], ['GET', '/Health'], ['GET', '/health/'], ['POST', '/Admin/otp/audit/query'], ['POST', '/admin/otp/audit/query/']]) {
        const req = method === 'GET' ? request(server()).get(path) : request(server()).post(path).send({ email: email() });
        const res = await req.set('authorization', `Bearer ${ADMIN_TOKEN}`);
        answers.push(`${method} ${path} -> ${res.status} ${res.body?.error}`);
      }
      expect(answers).toEqual(answers.map((a) => a.replace(/-> .*$/, '-> 404 not_found')));
    });

    it('a malformed-JSON 400 does not echo the body', async () => {
      // V8 quotes the text around an unexpected token in its message ("{"email": leaky}" is not valid JSON).
      for (const body of ['{"email": leaky.body@example.com}', 'leaky-word', '{"email":"leaky.body@example.com" tail}', "{'leaky':1}", '{"a":1}garbage-leaky']) {
        const res = await json('/auth/otp/challenges', body);
        expect(res.status).toBe(400);
        expect(res.body).toEqual({ error: 'bad_request', message: expect.any(String) });
        expect(res.text).not.toMatch(/leaky|tail|garbage/);
      }
    });
  });
});
