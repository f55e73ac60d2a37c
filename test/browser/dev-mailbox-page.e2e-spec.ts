import request from 'supertest';
import { HTTP_ADAPTERS, RELAXED_RATE_LIMITS } from '../support/test-app';
import { BootedTestApp, testApp } from '../support/test-app.builder';

const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

describe.each(HTTP_ADAPTERS)('the development mailbox page (%s)', (adapter) => {
  let t: BootedTestApp;
  let challengeId: string;
  const http = () => request(t.app.getHttpServer());

  beforeAll(async () => {
    t = await testApp().withDatabase().adapter(adapter).env(RELAXED_RATE_LIMITS).boot();
    challengeId = (await http().post('/auth/otp/challenges').send({ email: 'page-reader@example.com', locale: 'pt-BR' }).expect(202)).body.challengeId;
    await t.codeFor(challengeId);
  });
  afterAll(async () => {
    await t?.close(); // and drops its database
  });

  it('answers a browser (Accept: text/html) with a page listing each mail, its address and code', async () => {
    const res = await http().get('/dev/mailbox').set('Accept', BROWSER_ACCEPT).expect(200);
    const [mail] = t.mailbox.entries().codes;
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers.vary).toMatch(/Accept/);
    expect(res.text).toContain('page-reader@example.com');
    expect(res.text).toContain(`<strong class="code">${mail.code}</strong>`);
    expect(res.text).toContain(`href="/dev/mailbox/${mail.id}/pt/html"`);
  });

  it('keeps JSON for Accept: application/json, */*, no Accept, and JSON preferred by q-value', async () => {
    for (const accept of ['application/json', '*/*', undefined, 'text/html;q=0.5, application/json', 'application/json, text/html']) {
      const req = http().get('/dev/mailbox');
      const res = accept === undefined ? await req.unset('Accept') : await req.set('Accept', accept);
      expect([accept, res.status, res.headers['content-type']]).toEqual([accept, 200, expect.stringMatching(/^application\/json/)]);
      expect(res.body[0]).toEqual(expect.objectContaining({ challengeId, to: 'page-reader@example.com', locale: 'pt-BR' }));
    }
  });

  it('opens a mail in its own language and in every language the request asks for, each part as the recipient gets it', async () => {
    const [mail] = t.mailbox.entries().codes;
    const page = await http().get('/dev/mailbox').set('Accept', 'text/html').set('Accept-Language', 'de-DE, fr;q=0.8, ja;q=0.5').expect(200);
    const links = [...page.text.matchAll(/href="(\/dev\/mailbox\/[^"]+)"/g)].map((m) => m[1]).filter((l) => l.includes(mail.id));
    expect(links).toEqual(['pt', 'de', 'fr'].flatMap((lang) => [`/dev/mailbox/${mail.id}/${lang}/html`, `/dev/mailbox/${mail.id}/${lang}/text`]));
    const html = await http().get(`/dev/mailbox/${mail.id}/de/html`).expect(200);
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html.text).toMatch(/<html lang="de">/);
    expect(html.text).toContain(mail.code);
    const text = await http().get(`/dev/mailbox/${mail.id}/fr/text`).expect(200);
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(text.text).toContain(mail.code);
    expect(text.text).not.toContain('<');
  });

  it('answers 404 (JSON) for an unknown mail, language form or part, never a 500', async () => {
    const [mail] = t.mailbox.entries().codes;
    for (const path of [
      `/dev/mailbox/00000000-0000-4000-8000-000000000000/en/html`,
      `/dev/mailbox/not-an-id/en/html`,
      `/dev/mailbox/${mail.id}/<b>/html`,
      `/dev/mailbox/${mail.id}/en/pdf`,
      `/dev/mailbox/${mail.id}/EN/html`,
    ]) {
      const res = await http().get(path).set('Accept', 'text/html');
      expect([path, res.status, res.headers['content-type']]).toEqual([path, 404, expect.stringMatching(/^application\/json/)]);
    }
  });

  it('refuses the page and the mail parts like the JSON mailbox: to a forwarded client and in production', async () => {
    const [mail] = t.mailbox.entries().codes;
    for (const path of ['/dev/mailbox', `/dev/mailbox/${mail.id}/en/html`]) {
      const res = await http().get(path).set('Accept', 'text/html').set('X-Forwarded-For', '203.0.113.9');
      expect([path, res.status]).toEqual([path, 404]);
    }
    const prod = await testApp().database(t.db).adapter(adapter).env({ NODE_ENV: 'production', TLS_TERMINATED_BY_PROXY: 'true' }).boot();
    try {
      for (const path of ['/dev/mailbox', `/dev/mailbox/${mail.id}/en/html`]) {
        const res = await request(prod.app.getHttpServer()).get(path).set('Accept', 'text/html');
        expect([path, res.status, res.text]).toEqual([path, 404, expect.not.stringContaining(mail.code)]);
      }
    } finally {
      await prod.close();
    }
  });
});
