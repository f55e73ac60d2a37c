import request from 'supertest';
import { CONSOLE_CSP } from '../src/app/pages/console';
import { OtpAuditService } from '../src/otp';
import { consoleSignIn, strongToken } from './support/console-session';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { HTTP_ADAPTERS, RELAXED_RATE_LIMITS } from './support/test-app';
import { BootedTestApp, testApp } from './support/test-app.builder';

const setCookies = (res: request.Response) => ([] as string[]).concat(res.headers['set-cookie'] ?? []);

function expectConsoleHeaders(res: request.Response, what: string): void {
  expect([what, res.headers['content-security-policy'], res.headers['cache-control'], res.headers['x-frame-options']])
    .toEqual([what, CONSOLE_CSP, 'no-store', 'DENY']);
}


describe('operator console hardening (review rfix2)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
    const token = strongToken();
    let t: BootedTestApp;
    const http = () => request(t.app.getHttpServer());
    beforeAll(async () => {
      t = await testApp().database(db).adapter(adapter).env({ OTP_ADMIN_TOKEN: token, ...RELAXED_RATE_LIMITS }).boot();
    });
    afterAll(async () => {
      await t?.close();
    });

    it('a second otp_console cookie planted beside the session (a sibling subdomain) does not lock the operator out', async () => {
      const planted = 'otp_console=planted_by_sibling';
      const { cookie, csrf } = await consoleSignIn(t, token, planted);
      for (const header of [`${planted}; ${cookie}`, `${cookie}; ${planted}`]) {
        expect((await http().get('/admin').set('Cookie', header).expect(200)).text).toContain('id="audit-form"');
        await http().get('/admin/console/keys').set('Cookie', header).expect(200);
        await http().post('/admin/console/audit').set('Cookie', header).set('X-CSRF-Token', csrf).send({}).expect(200);
      }
      // Signing in again with both cookies revokes the live session it names.
      const again = await http().post('/admin/session').set('Cookie', `${planted}; ${cookie}`).send({ token }).expect(200);
      expect(setCookies(again)[0]).toMatch(/^otp_console=/);
      await http().get('/admin/console/keys').set('Cookie', cookie).expect(401);
    });

    it('refusals under /admin carry the console headers (415 before the JSON guard, 404, 400 for a query, a bad body or bad JSON), /admin/otp/* keeps its own', async () => {
      const refusals = [
        await http().post('/admin/session').set('Content-Type', 'text/plain').send('token=x').expect(415),
        await http().get('/admin/no-such-page').expect(404),
        await http().get('/Admin/no-such-page').expect(404),
        await http().get('/admin?x=1').expect(400),
        await http().post('/admin/session').send({ token: 1 }).expect(400),
        await http().post('/admin/session').set('Content-Type', 'application/json').send('{"token":').expect(400),
      ];
      refusals.forEach((res, i) => expectConsoleHeaders(res, `refusal ${i}`));
      const api = await http().post('/admin/otp/audit/query').send({}).expect(401);
      expect(api.headers['content-security-policy']).not.toBe(CONSOLE_CSP);
    });

    it('a query string gets one refusal everywhere: the console, the pages and the OTP routes answer the same 400 body', async () => {
      const bodies = [
        (await http().get('/admin?x=1').expect(400)).body,
        (await http().get('/admin/console/keys?x=1').expect(400)).body,
        (await http().get('/?x=1').expect(400)).body,
        (await http().post('/auth/otp/challenges?x=1').send({ email: 'q@example.com' }).expect(400)).body,
      ];
      expect(bodies[0]).toEqual({ error: 'query_not_allowed', message: expect.any(String) });
      expect(bodies).toEqual(bodies.map(() => bodies[0]));
    });

    it('a malformed sign-in body is 400 and audited as operator.auth_failed with reason malformed', async () => {
      const agent = `malformed-${adapter}-${Date.now()}`;
      const bodies: unknown[] = [{ token: 1 }, { token: 'x', a: 1 }, [token], { token: 'x'.repeat(1025) }];
      for (const [i, body] of bodies.entries()) {
        const res = await http().post('/admin/session').set('User-Agent', `${agent}/${i}`).send(body as object).expect(400);
        expect(res.body).toMatchObject({ error: expect.any(String) });
        expect(setCookies(res)).toEqual([]);
      }
      const rows = (await t.app.get(OtpAuditService).list({ event: 'operator.auth_failed', limit: 1000 })).filter((r) => r.userAgent?.startsWith(agent));
      expect(rows.map((r) => [r.userAgent, r.outcome, (r.detail as { reason?: string }).reason])).toEqual(
        bodies.map((_, i) => [`${agent}/${i}`, 'failure', 'malformed']),
      );
    });

    it('the console audit search shows the newest matches first', async () => {
      for (let i = 0; i < 3; i++) await http().post('/admin/session').send({ token: `wrong-${i}` }).expect(401);
      const { cookie, csrf } = await consoleSignIn(t, token);
      const all = await t.app.get(OtpAuditService).list({ event: 'operator.auth_failed', limit: 1000 });
      expect(all.length).toBeGreaterThanOrEqual(3);
      const res = await http().post('/admin/console/audit').set('Cookie', cookie).set('X-CSRF-Token', csrf)
        .send({ event: 'operator.auth_failed', limit: 2 }).expect(200);
      const newest = all.slice(-2).reverse().map((r) => r.seq);
      expect((res.body.events as { seq: string }[]).map((e) => e.seq)).toEqual(newest);
    });
  });

  it('in production the session cookie is __Host-otp_console (Path=/, Secure, no Domain) and an otp_console cookie is not read', async () => {
    const token = strongToken();
    const t = await testApp().database(db)
      .env({ NODE_ENV: 'production', TLS_TERMINATED_BY_PROXY: 'true', OTP_ADMIN_TOKEN: token, ...RELAXED_RATE_LIMITS }).boot();
    try {
      const res = await request(t.app.getHttpServer()).post('/admin/session').send({ token }).expect(200);
      const [cookie] = setCookies(res);
      expect(cookie).toMatch(/^__Host-otp_console=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=1800; HttpOnly; SameSite=Strict; Secure$/);
      const id = cookie.split(';')[0].split('=')[1];
      expect((await request(t.app.getHttpServer()).get('/admin').set('Cookie', `__Host-otp_console=${id}`).expect(200)).text).toContain('id="audit-form"');
      expect((await request(t.app.getHttpServer()).get('/admin').set('Cookie', `otp_console=${id}`).expect(200)).text).toContain('id="sign-in"');
    } finally {
      await t.close();
    }
  });
});
