import { randomBytes } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import request from 'supertest';
import { operatorServerOf } from '../src/app/app.factory';
import { CONSOLE_CSP, ConsoleSessionStore } from '../src/app/pages/console';
import { OtpAuditService, untaggedChallengeId } from '../src/otp';
import { consoleSignIn, strongToken } from './support/console-session';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { HTTP_ADAPTERS, RELAXED_RATE_LIMITS, TestApp } from './support/test-app';
import { testApp } from './support/test-app.builder';

const server = (t: TestApp) => request(t.app.getHttpServer());


describe('operator console (issue 13)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
    const app = (env: NodeJS.ProcessEnv = {}) => testApp().database(db).adapter(adapter).env({ ...RELAXED_RATE_LIMITS, ...env });
    const boot = (env: NodeJS.ProcessEnv = {}) => app(env).boot();

    it('without OTP_ADMIN_TOKEN the console does not exist: 404 on every console route', async () => {
      const t = await boot();
      try {
        await server(t).get('/admin').expect(404);
        await server(t).post('/admin/session').send({ token: 'x' }).expect(404);
        await server(t).delete('/admin/session').expect(404);
        await server(t).get('/admin/console/keys').expect(404);
        await server(t).post('/admin/console/audit').send({}).expect(404);
        await server(t).get('/admin/assets/console.js').expect(404);
      } finally {
        await t.close();
      }
    });

    describe('with a token', () => {
      const token = strongToken();
      let t: TestApp;
      beforeAll(async () => {
        t = await boot({ OTP_ADMIN_TOKEN: token });
      });
      afterAll(async () => {
        await t?.close();
      });

      it('serves the sign-in page as HTML with the strict CSP, no-store and no framing, in the language asked', async () => {
        const res = await server(t).get('/admin').expect(200);
        expect(res.headers['content-type']).toMatch(/^text\/html; charset=utf-8/);
        expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.headers['x-frame-options']).toBe('DENY');
        expect(res.text).toContain('<html lang="en">');
        expect(res.text).toMatch(/<label for="token">/);
        // No inline script, style or handler: scripts are same-origin files, or JSON data blocks (never executed).
        expect(res.text.match(/<script[^>]*>/g)).toEqual(['<script src="/admin/assets/console.js" defer>', '<script type="application/json" id="console-strings">']);
        expect(res.text).not.toMatch(/<style|\sstyle=|\son[a-z]+=/);
        for (const [header, lang, title] of [['de-DE,de;q=0.9', 'de', 'Betreiberkonsole'], ['fr;q=0.5, pt-BR', 'pt', 'Consola do operador'], ['fr-CA', 'fr', 'Console d’exploitation'], ['xx, *', 'en', 'Operator console']]) {
          const page = await server(t).get('/admin').set('Accept-Language', header).expect(200);
          expect([header, page.text.includes(`<html lang="${lang}">`), page.text.includes(title)]).toEqual([header, true, true]);
        }
        const js = await server(t).get('/admin/assets/console.js').expect(200);
        expect(js.headers['content-type']).toMatch(/^text\/javascript/);
        expect(js.headers['content-security-policy']).toBe(CONSOLE_CSP);
        const css = await server(t).get('/admin/assets/console.css').expect(200);
        expect(css.text).toContain('prefers-color-scheme: dark');
      });

      it('signing in sets an HttpOnly, SameSite=Strict session cookie on /admin (no Secure in development) and never echoes the token', async () => {
        const res = await server(t).post('/admin/session').send({ token }).expect(200);
        expect(res.headers['cache-control']).toBe('no-store');
        const [cookie] = ([] as string[]).concat(res.headers['set-cookie']);
        expect(cookie).toMatch(/^otp_console=[A-Za-z0-9_-]{43}; Path=\/admin; Max-Age=1800; HttpOnly; SameSite=Strict$/);
        expect(cookie).not.toContain(token);
        expect(JSON.stringify(res.body)).not.toContain(token);
        const page = await server(t).get('/admin').set('Cookie', cookie.split(';')[0]).expect(200);
        expect(page.text).toContain('id="audit-form"');
        expect(page.text).not.toContain(token);
        expect(page.headers['cache-control']).toBe('no-store');
      });

      it('without a session every data route answers 401 and the page is the sign-in form', async () => {
        for (const path of ['/admin/console/keys', '/admin/console/chain', '/admin/console/deliveries', '/admin/console/alerts']) {
          const res = await server(t).get(path).expect(401);
          expect(res.headers['cache-control']).toBe('no-store');
        }
        await server(t).post('/admin/console/audit').send({}).expect(401);
        expect((await server(t).get('/admin').expect(200)).text).toContain('id="sign-in"');
      });

      it('a missing or wrong CSRF token gets 403 and changes nothing: the session still works, the search did not run', async () => {
        const { cookie, csrf } = await consoleSignIn(t, token);
        const audit = t.app.get(OtpAuditService);
        const queried = async () => (await audit.list({ event: 'audit.queried', limit: 1000 })).length;
        const before = await queried();
        await server(t).post('/admin/console/audit').set('Cookie', cookie).send({}).expect(403);
        await server(t).post('/admin/console/audit').set('Cookie', cookie).set('X-CSRF-Token', `${csrf}x`).send({}).expect(403);
        await server(t).post('/admin/console/audit').set('Cookie', cookie).set('X-CSRF-Token', '').send({}).expect(403);
        await server(t).post('/admin/session/delete').set('Cookie', cookie).send({}).expect(403);
        await server(t).delete('/admin/session').set('Cookie', cookie).set('X-CSRF-Token', 'A'.repeat(43)).expect(403);
        // Another session's token is not this one's.
        const other = await consoleSignIn(t, token);
        await server(t).post('/admin/console/audit').set('Cookie', cookie).set('X-CSRF-Token', other.csrf).send({}).expect(403);
        expect(await queried()).toBe(before);
        await server(t).get('/admin/console/keys').set('Cookie', cookie).expect(200);
        await server(t).post('/admin/console/audit').set('Cookie', cookie).set('X-CSRF-Token', csrf).send({}).expect(200);
        expect(await queried()).toBe(before + 1);
      });

      it('signing out (POST /admin/session/delete or DELETE /admin/session) revokes the session on the server and clears the cookie', async () => {
        for (const viaDelete of [false, true]) {
          const { cookie, csrf } = await consoleSignIn(t, token);
          const out = viaDelete
            ? await server(t).delete('/admin/session').set('Cookie', cookie).set('X-CSRF-Token', csrf).expect(200)
            : await server(t).post('/admin/session/delete').set('Cookie', cookie).set('X-CSRF-Token', csrf).send({}).expect(200);
          expect(([] as string[]).concat(out.headers['set-cookie'])[0]).toMatch(/^otp_console=; Path=\/admin; Max-Age=0; HttpOnly; SameSite=Strict$/);
          // The old cookie, replayed, is dead.
          await server(t).get('/admin/console/keys').set('Cookie', cookie).expect(401);
          await server(t).post('/admin/console/audit').set('Cookie', cookie).set('X-CSRF-Token', csrf).send({}).expect(401);
          expect((await server(t).get('/admin').set('Cookie', cookie).expect(200)).text).toContain('id="sign-in"');
        }
      });

      it('a session expires 30 minutes after sign-in', async () => {
        const { cookie } = await consoleSignIn(t, token);
        const store = t.app.get(ConsoleSessionStore);
        const realNow = store.now;
        try {
          await server(t).get('/admin/console/keys').set('Cookie', cookie).expect(200);
          store.now = () => realNow() + 29 * 60_000;
          await server(t).get('/admin/console/keys').set('Cookie', cookie).expect(200);
          store.now = () => realNow() + 30 * 60_000 + 1000;
          await server(t).get('/admin/console/keys').set('Cookie', cookie).expect(401);
        } finally {
          store.now = realNow;
        }
        await server(t).get('/admin/console/keys').set('Cookie', cookie).expect(401);
      });

      it('hostile input never gets a 500: bad cookies, huge or malformed parameters, odd bodies', async () => {
        const { cookie, csrf } = await consoleSignIn(t, token);
        const badCookies = ['otp_console', 'otp_console=', 'otp_console=%%%', `otp_console=${'a'.repeat(4000)}`, 'otp_console=a; otp_console=b',
          'otp_console="quoted"', '=;;=;', 'otp_console=ü', `otp_console=${'x'.repeat(43)}`];
        for (const c of badCookies) {
          const res = await server(t).get('/admin/console/keys').set('Cookie', c);
          expect([c.slice(0, 40), res.status]).toEqual([c.slice(0, 40), 401]);
          expect((await server(t).get('/admin').set('Cookie', c)).status).toBe(200);
        }
        const post = (body: unknown) => server(t).post('/admin/console/audit').set('Cookie', cookie).set('X-CSRF-Token', csrf).send(body as object);
        for (const body of [
          { email: `${'a'.repeat(10_000)}@example.com` }, { email: 'not-an-address' }, { from: 'not a date' }, { to: '9'.repeat(400) },
          { limit: 1_000_000 }, { limit: 'all' }, { challengeId: 'x'.repeat(5000) }, { ip: '999.1.1.1' }, { event: 'DROP TABLE' },
          { unknown: 1 }, JSON.parse('{"constructor":{"prototype":{"x":1}}}'), [1, 2], { email: ['a@example.com'] },
        ]) {
          const res = await post(body);
          expect([JSON.stringify(body).slice(0, 60), res.status]).toEqual([JSON.stringify(body).slice(0, 60), 400]);
          expect(res.text).not.toMatch(/at .*\.ts|stack/i);
        }
        expect((await post({ email: 'x'.repeat(20_000) })).status).toBe(413);
        expect((await server(t).post('/admin/session').send({ token: 'x'.repeat(5000) })).status).toBe(400);
        expect((await server(t).post('/admin/session').send({ token: 12 })).status).toBe(400);
        expect((await server(t).post('/admin/session').set('Content-Type', 'application/x-www-form-urlencoded').send(`token=${token}`)).status).toBe(415);
        // R3: nothing of the console travels in a URL; a query string is refused before anything runs.
        for (const path of [`/admin?${'q'.repeat(6000)}=1`, `/admin?token=${token}`, '/admin/assets/console.js?v=1', '/admin/console/keys?x=1']) {
          const res = await server(t).get(path).set('Cookie', cookie);
          expect([path.slice(0, 40), res.status, res.body.error]).toEqual([path.slice(0, 40), 400, 'query_not_allowed']);
          expect(res.headers['cache-control']).toBe('no-store');
        }
        const withQuery = await server(t).post('/admin/session?x=1').send({ token }).expect(400);
        expect(withQuery.headers['set-cookie']).toBeUndefined();
      });

      it('the delivery view shows kind, status, attempts and error class of recent mails, never the address, its index or the code', async () => {
        const address = `console.delivery.${Date.now()}@example.com`;
        const issued = await server(t).post('/auth/otp/challenges').send({ email: address }).expect(202);
        const code = await t.codeFor(issued.body.challengeId);
        const { cookie } = await consoleSignIn(t, token);
        const res = await server(t).get('/admin/console/deliveries').set('Cookie', cookie).expect(200);
        expect(res.body.deliveries).toEqual(expect.arrayContaining([
          { id: expect.any(String), kind: 'code', purpose: 'login', status: 'delivered', attempts: 1, lastError: null, createdAt: expect.any(String), finishedAt: expect.any(String) },
        ]));
        const [index] = (await t.app.get(OtpAuditService).list({ challengeId: issued.body.challengeId, limit: 10 })).map((r) => r.recipientIndex);
        expect(index).toEqual(expect.any(String));
        for (const secret of [address, address.split('@')[0], code, index!]) expect(res.text).not.toContain(secret);
      });

      it('the audit search finds a sign-in by address (blind-indexed on the server, never echoed) and the chain is ok', async () => {
        const address = `console.audit.${Date.now()}@example.com`;
        const issued = await server(t).post('/auth/otp/challenges').send({ email: address }).expect(202);
        const code = await t.codeFor(issued.body.challengeId);
        await server(t).post(`/auth/otp/challenges/${issued.body.challengeId}/verify`).send({ code }).expect(200);
        const { cookie, csrf } = await consoleSignIn(t, token);
        const res = await server(t).post('/admin/console/audit').set('Cookie', cookie).set('X-CSRF-Token', csrf).send({ email: address.toUpperCase() }).expect(200);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.body.events.map((e: { event: string }) => e.event)).toEqual(expect.arrayContaining(['challenge.issued', 'verify.succeeded']));
        // Rows show the id at rest (its recipient tag zeroed, R30); the search takes the id the client has.
        const atRest = untaggedChallengeId(issued.body.challengeId);
        expect(res.body.events.every((e: { challengeId: string | null }) => e.challengeId === atRest || e.challengeId === null)).toBe(true);
        expect(res.text.toLowerCase()).not.toContain(address);
        expect(res.text).not.toContain(code);
        const byEvent = await server(t).post('/admin/console/audit').set('Cookie', cookie).set('X-CSRF-Token', csrf)
          .send({ challengeId: issued.body.challengeId, event: 'verify.succeeded', from: new Date(Date.now() - 60_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() }).expect(200);
        expect(byEvent.body.events).toEqual([expect.objectContaining({ event: 'verify.succeeded', challengeId: atRest })]);
        const byIdAtRest = await server(t).post('/admin/console/audit').set('Cookie', cookie).set('X-CSRF-Token', csrf)
          .send({ challengeId: atRest, event: 'verify.succeeded' }).expect(200);
        expect(byIdAtRest.body.events.map((e: { seq: string }) => e.seq)).toEqual(byEvent.body.events.map((e: { seq: string }) => e.seq));
        const chain = await server(t).get('/admin/console/chain').set('Cookie', cookie).expect(200);
        expect(chain.body).toEqual({ ok: true, rows: expect.any(Number), headSeq: expect.stringMatching(/^\d+$/), headHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
        const keys = await server(t).get('/admin/console/keys').set('Cookie', cookie).expect(200);
        expect(keys.body).toMatchObject({ signingKeyId: 'k1', verifyingKeyIds: ['k1'] });
        expect(JSON.stringify(keys.body)).not.toMatch(/[A-Za-z0-9+/]{40,}/);
        const alerts = await server(t).get('/admin/console/alerts').set('Cookie', cookie).expect(200);
        expect(alerts.body).toEqual({ alerts: expect.any(Array) });
      });
    });

    it('a wrong token gets 401, is audited as operator.auth_failed (never the token), and sign-ins are throttled at the operator limit before authentication', async () => {
      const token = strongToken();
      const t = await boot({ OTP_ADMIN_TOKEN: token, RATE_LIMIT_OPERATOR: '3/60' });
      try {
        const agent = `console-${adapter}-${Date.now()}`;
        const guess = `guess-${randomBytes(8).toString('hex')}`;
        const wrong = await server(t).post('/admin/session').set('User-Agent', `${agent}/1`).send({ token: guess }).expect(401);
        expect(wrong.headers['set-cookie']).toBeUndefined();
        await server(t).post('/admin/session').set('User-Agent', `${agent}/2`).send({}).expect(401);
        await server(t).post('/admin/session').set('User-Agent', `${agent}/3`).send({ token: `${token}x` }).expect(401);
        const refused = await server(t).post('/admin/session').send({ token }).expect(429);
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
        expect(refused.headers['set-cookie']).toBeUndefined();
        const audit = t.app.get(OtpAuditService);
        const rows = (await audit.list({ event: 'operator.auth_failed', limit: 1000 })).filter((r) => r.userAgent?.startsWith(agent));
        expect(rows).toEqual([
          expect.objectContaining({ outcome: 'failure', userAgent: `${agent}/1`, ip: expect.stringMatching(/127\.0\.0\.1$/), detail: expect.objectContaining({ reason: 'mismatch', route: 'ConsoleController.signIn' }) }),
          expect.objectContaining({ userAgent: `${agent}/2`, detail: expect.objectContaining({ reason: 'missing' }) }),
          expect.objectContaining({ userAgent: `${agent}/3`, detail: expect.objectContaining({ reason: 'mismatch' }) }),
        ]);
        const all = JSON.stringify(await audit.list({ limit: 1000 }));
        expect(all).not.toContain(guess);
        expect(all).not.toContain(token);
      } finally {
        await t.close();
      }
    });

    it('R37: neither the operator token, the session id nor the CSRF token reach the logs (debug level), right or wrong', async () => {
      const token = strongToken();
      const lines: string[] = [];
      const sink = new Writable({ write(chunk, _enc, done) { lines.push(chunk.toString()); done(); } });
      const t = await app({ OTP_ADMIN_TOKEN: token, LOG_LEVEL: 'debug' }).logTo(sink).boot();
      try {
        const guess = strongToken();
        await server(t).post('/admin/session').send({ token: guess }).expect(401);
        const { cookie, csrf } = await consoleSignIn(t, token);
        await server(t).post('/admin/console/audit').set('Cookie', cookie).set('X-CSRF-Token', csrf).send({}).expect(200);
        await server(t).post('/admin/session/delete').set('Cookie', cookie).set('X-CSRF-Token', csrf).send({}).expect(200);
        const log = lines.join('');
        expect(log).toContain('/admin/session');
        for (const secret of [token, guess, cookie.split('=')[1], csrf]) expect(log).not.toContain(secret);
      } finally {
        await t.close();
      }
    });

    it('in production the session cookie is also Secure', async () => {
      const token = strongToken();
      const t = await boot({ NODE_ENV: 'production', TLS_TERMINATED_BY_PROXY: 'true', OTP_ADMIN_TOKEN: token });
      try {
        const res = await server(t).post('/admin/session').send({ token }).expect(200);
        expect(([] as string[]).concat(res.headers['set-cookie'])[0]).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
      } finally {
        await t.close();
      }
    });

    it('with OPERATOR_PORT the console is served on the operator listener only: 404 on the public port', async () => {
      const token = strongToken();
      const t = await app({ OTP_ADMIN_TOKEN: token, OPERATOR_PORT: '0' }).listen().boot();
      try {
        const pub = () => request(`http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`);
        const op = () => request(`http://127.0.0.1:${(operatorServerOf(t.app)!.address() as AddressInfo).port}`);
        await pub().get('/admin').expect(404);
        await pub().get('/admin/assets/console.js').expect(404);
        await pub().post('/admin/session').send({ token }).expect(404);
        await pub().get('/admin/console/keys').expect(404);
        await op().get('/admin').expect(200);
        await op().get('/admin/assets/console.css').expect(200);
        const signedIn = await op().post('/admin/session').send({ token }).expect(200);
        const cookie = ([] as string[]).concat(signedIn.headers['set-cookie'])[0].split(';')[0];
        await op().get('/admin/console/keys').set('Cookie', cookie).expect(200);
        await pub().get('/admin/console/keys').set('Cookie', cookie).expect(404);
      } finally {
        await t.close();
      }
    });
  });
});
