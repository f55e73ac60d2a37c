import request from 'supertest';
import { HTTP_ADAPTERS, RELAXED_RATE_LIMITS } from './support/test-app';
import { BootedTestApp, testApp } from './support/test-app.builder';

/**
 * DNS rebinding: a page the developer opens on `attacker.example` re-points that name at 127.0.0.1 and
 * reads the mailbox with the browser's own loopback connection. The client address is loopback then;
 * only the `Host` header still names the attacker's site.
 */
describe.each(HTTP_ADAPTERS)('the development mailbox answers only requests addressed to this machine or APP_URL (%s)', (adapter) => {
  let t: BootedTestApp;
  let paths: string[];
  /** `#html`: the page a browser gets (Accept: text/html) rather than the JSON list. */
  const get = (path: string, host: string) =>
    request(t.app.getHttpServer()).get(path.replace('#html', '')).set('Host', host).set('Accept', path.endsWith('#html') ? 'text/html' : 'application/json');

  beforeAll(async () => {
    t = await testApp().withDatabase().adapter(adapter).env({ ...RELAXED_RATE_LIMITS, APP_URL: 'http://otp.dev.example:8080' }).boot();
    const issued = await request(t.app.getHttpServer()).post('/auth/otp/challenges').send({ email: `rebind.${Date.now()}@example.com` }).expect(202);
    await t.codeFor(issued.body.challengeId);
    const id = t.mailbox.entries().codes[0].id;
    paths = ['/dev/mailbox', '/dev/mailbox#html', `/dev/mailbox/${id}/en/html`, `/dev/mailbox/${id}/en/text`];
  });
  afterAll(async () => t?.close());

  it('a rebinding host name gets 404 on every mailbox route (list, page, mail parts), and no code in the answer', async () => {
    const code = t.mailbox.list()[0].code;
    for (const host of ['attacker.example:3000', 'attacker.example', 'localhost.attacker.example:3000', '127.0.0.1.nip.io:3000', 'otp.dev.example.attacker.example', 'localhost:3000@attacker.example']) {
      for (const path of paths) {
        const res = await get(path, host);
        expect([host, path, res.status]).toEqual([host, path, 404]);
        expect(res.text).not.toContain(code);
      }
    }
  });

  it('answers for localhost, 127.0.0.1 and [::1] on any port, and for the APP_URL host', async () => {
    for (const host of ['localhost', 'localhost:3000', 'LOCALHOST:3000', '127.0.0.1', '127.0.0.1:49152', '[::1]', '[::1]:3000', 'otp.dev.example:8080', 'otp.dev.example']) {
      for (const path of paths) {
        const res = await get(path, host);
        expect([host, path, res.status]).toEqual([host, path, 200]);
        if (path.endsWith('#html')) expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      }
    }
  });
});
