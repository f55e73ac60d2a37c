import { randomBytes } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import request from 'supertest';
import { operatorServerOf } from '../src/app/app.factory';
import { OtpAuditService } from '../src/otp';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { HTTP_ADAPTERS, RELAXED_RATE_LIMITS } from './support/test-app';
import { testApp } from './support/test-app.builder';

const strongToken = () => randomBytes(32).toString('base64url');

describe('operator routes (issue 9)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('in production an OTP_ADMIN_TOKEN under 32 random bytes is refused at start, saying how to make one', async () => {
    const prod = { DATABASE_URL: db.url, NODE_ENV: 'production', TLS_TERMINATED_BY_PROXY: 'true' };
    await expect(testApp()
      .env({ ...prod, OTP_ADMIN_TOKEN: 'admin-secret-123' })
      .boot()).rejects.toThrow(/audit\.adminToken.*32 random bytes.*randomBytes\(32\)\.toString\('base64url'\)/);
    const t = await testApp().env({ ...prod, OTP_ADMIN_TOKEN: strongToken() }).boot();
    await t.close();
  });

  it('in development a short OTP_ADMIN_TOKEN still works', async () => {
    const t = await testApp().database(db).env({ OTP_ADMIN_TOKEN: 'dev' }).boot();
    try {
      await request(t.app.getHttpServer()).get('/metrics').set('Authorization', 'Bearer dev').expect(200);
    } finally {
      await t.close();
    }
  });

  describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
    it('the operator throttler counts /metrics and /admin/otp/audit/* per IP before authentication: 429 with Retry-After, even with the right token', async () => {
      const token = strongToken();
      const t = await testApp()
        .database(db)
        .adapter(adapter)
        .env({ OTP_ADMIN_TOKEN: token, ...RELAXED_RATE_LIMITS, RATE_LIMIT_OPERATOR: '3/60' })
        .boot();
      try {
        const http = () => request(t.app.getHttpServer());
        await http().get('/metrics').set('Authorization', 'Bearer guess-1').expect(401);
        await http().post('/admin/otp/audit/query').set('Authorization', 'Bearer guess-2').send({}).expect(401);
        await http().get('/admin/otp/audit/verify').expect(401);
        const refused = await http().get('/metrics').set('Authorization', `Bearer ${token}`).expect(429);
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
        expect(refused.body).toMatchObject({ error: expect.any(String) });
        await http().post('/admin/otp/audit/query').set('Authorization', `Bearer ${token}`).send({}).expect(429);
        // Only operator routes: the OTP API and /health are not counted by it.
        await http().get('/health').expect(200);
        await http().post('/auth/otp/challenges').send({ email: `op.${Date.now()}@example.com` }).expect(202);
      } finally {
        await t.close();
      }
    });

    it('a failed operator authentication is audited as operator.auth_failed with IP and user agent, never the token', async () => {
      const token = strongToken();
      const t = await testApp().database(db).adapter(adapter).env({ OTP_ADMIN_TOKEN: token, ...RELAXED_RATE_LIMITS }).boot();
      try {
        const http = () => request(t.app.getHttpServer());
        const guess = `guess-${randomBytes(8).toString('hex')}`;
        const agent = `probe-${adapter}-${Date.now()}`;
        await http().get('/metrics').set('User-Agent', `${agent}/1`).set('Authorization', `Bearer ${guess}`).expect(401);
        await http().post('/admin/otp/audit/export').set('User-Agent', `${agent}/2`).send({}).expect(401);
        await http().get('/metrics').set('User-Agent', `${agent}/3`).set('Authorization', `Bearer ${token}`).expect(200);
        // The suite's database is shared: only this test's requests.
        const rows = (await t.app.get(OtpAuditService).list({ event: 'operator.auth_failed', limit: 1000 })).filter((r) => r.userAgent?.startsWith(agent));
        expect(rows).toEqual([
          expect.objectContaining({ event: 'operator.auth_failed', outcome: 'failure', owasp: 'authn_login_fail', userAgent: `${agent}/1`, ip: expect.stringMatching(/127\.0\.0\.1$/), detail: expect.objectContaining({ reason: 'mismatch' }) }),
          expect.objectContaining({ event: 'operator.auth_failed', userAgent: `${agent}/2`, detail: expect.objectContaining({ reason: 'missing' }) }),
        ]);
        const all = JSON.stringify(await t.app.get(OtpAuditService).list({ limit: 1000 }));
        expect(all).not.toContain(guess);
        expect(all).not.toContain(token);
      } finally {
        await t.close();
      }
    });

    it('with OPERATOR_PORT, /metrics and /admin/otp/audit/* are served only on the operator listener (127.0.0.1) and are 404 on the public port; /health stays public', async () => {
      const token = strongToken();
      const t = await testApp()
        .database(db)
        .adapter(adapter)
        .env({ OTP_ADMIN_TOKEN: token, OPERATOR_PORT: '0', ...RELAXED_RATE_LIMITS })
        .listen()
        .boot();
      let operatorPort = 0;
      try {
        const server = operatorServerOf(t.app);
        expect(server).toBeDefined();
        const address = server!.address() as AddressInfo;
        expect(address.address).toBe('127.0.0.1');
        operatorPort = address.port;
        const publicPort = (t.app.getHttpServer().address() as AddressInfo).port;
        expect(operatorPort).not.toBe(publicPort);
        const pub = () => request(`http://127.0.0.1:${publicPort}`);
        const op = () => request(`http://127.0.0.1:${operatorPort}`);

        for (const auth of [`Bearer ${token}`, 'Bearer wrong', '']) {
          await pub().get('/metrics').set('Authorization', auth).expect(404);
          await pub().get('/METRICS/').set('Authorization', auth).expect(404);
          await pub().post('/admin/otp/audit/query').set('Authorization', auth).send({}).expect(404);
          await pub().get('/admin/otp/audit/verify').set('Authorization', auth).expect(404);
        }
        await pub().get('/health').expect(200);
        await pub().post('/auth/otp/challenges').send({ email: `pub.${Date.now()}@example.com` }).expect(202);

        const metrics = await op().get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);
        expect(metrics.text).toContain('otp_challenges_issued_total');
        await op().get('/metrics').set('Authorization', 'Bearer wrong').expect(401);
        await op().post('/admin/otp/audit/query').set('Authorization', `Bearer ${token}`).send({}).expect(200);
        await op().get('/admin/otp/audit/verify').set('Authorization', `Bearer ${token}`).expect(200);
        // The operator listener serves nothing else.
        await op().post('/auth/otp/challenges').send({ email: `op.${Date.now()}@example.com` }).expect(404);
      } finally {
        await t.close();
      }
      // Closing the app closes the operator listener too.
      const refused = await new Promise<boolean>((resolve) => {
        const s = connect(operatorPort, '127.0.0.1');
        s.once('connect', () => { s.destroy(); resolve(false); });
        s.once('error', () => resolve(true));
      });
      expect(refused).toBe(true);
    });

    it('with OPERATOR_PORT, the listener check runs before the JSON body check: a text/plain body to an operator route on the public port gets 404, not 415', async () => {
      const token = strongToken();
      const t = await testApp()
        .database(db)
        .adapter(adapter)
        .env({ OTP_ADMIN_TOKEN: token, OPERATOR_PORT: '0', ...RELAXED_RATE_LIMITS })
        .listen()
        .boot();
      try {
        const pub = request(`http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`);
        const op = request(`http://127.0.0.1:${(operatorServerOf(t.app)!.address() as AddressInfo).port}`);
        for (const auth of [`Bearer ${token}`, '']) {
          const res = await pub.post('/admin/otp/audit/query').set('Authorization', auth).set('Content-Type', 'text/plain').send('{}').expect(404);
          expect(res.body).toEqual({ error: 'not_found', message: expect.any(String) });
        }
        await op.post('/auth/otp/challenges').set('Content-Type', 'text/plain').send('{}').expect(404);
        // On the right listener the body check still applies.
        await op.post('/admin/otp/audit/query').set('Authorization', `Bearer ${token}`).set('Content-Type', 'text/plain').send('{}').expect(415);
      } finally {
        await t.close();
      }
    });

    it('with OPERATOR_PORT, the operator listener serves no Swagger (/docs, /docs-json, /docs-yaml, any spelling): 404 there, served on the public port', async () => {
      const t = await testApp()
        .database(db)
        .adapter(adapter)
        .env({ OTP_ADMIN_TOKEN: strongToken(), OPERATOR_PORT: '0', OPENAPI: 'true', ...RELAXED_RATE_LIMITS })
        .listen()
        .boot();
      try {
        const pub = request(`http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`);
        const op = request(`http://127.0.0.1:${(operatorServerOf(t.app)!.address() as AddressInfo).port}`);
        const json = await pub.get('/docs-json').expect(200);
        expect(json.body.openapi).toMatch(/^3\./);
        await pub.get('/docs-yaml').expect(200);
        const ui = await pub.get('/docs/').redirects(1);
        expect(ui.status).toBe(200);
        for (const path of ['/docs', '/docs/', '/docs/index.html', '/docs/swagger-ui-init.js', '/docs-json', '/docs-yaml', '/DOCS-JSON', '/%64ocs-json', '//docs-json', '/docs-json?x=1']) {
          const res = await op.get(path).redirects(0);
          expect([path, res.status]).toEqual([path, 404]);
          expect(res.text).not.toMatch(/openapi|swagger/i);
        }
      } finally {
        await t.close();
      }
    });

    it('without OPERATOR_PORT the operator routes stay on the public port', async () => {
      const token = strongToken();
      const t = await testApp().database(db).adapter(adapter).env({ OTP_ADMIN_TOKEN: token, ...RELAXED_RATE_LIMITS }).listen().boot();
      try {
        expect(operatorServerOf(t.app)).toBeUndefined();
        const port = (t.app.getHttpServer().address() as AddressInfo).port;
        await request(`http://127.0.0.1:${port}`).get('/metrics').set('Authorization', `Bearer ${token}`).expect(200);
      } finally {
        await t.close();
      }
    });
  });
});
