import request from 'supertest';
import { HTTP_ADAPTERS, RELAXED_RATE_LIMITS } from '../support/test-app';
import { BootedTestApp, testApp } from '../support/test-app.builder';

const APP_PAGE_DIRECTIVES = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'", "form-action 'self'",
];
/** An opening <script> tag without a src attribute: an inline script. */
const INLINE_SCRIPT = /<script\b(?![^>]*\bsrc=)[^>]*>/i;
const directives = (csp: string | undefined) => (csp ?? '').split(';').map((d) => d.trim()).filter(Boolean);

describe.each(HTTP_ADAPTERS)('page headers and markup (%s)', (adapter) => {
  let t: BootedTestApp;
  const http = () => request(t.app.getHttpServer());

  beforeAll(async () => {
    t = await testApp().withDatabase().adapter(adapter).env(RELAXED_RATE_LIMITS).boot();
    const issued = await http().post('/auth/otp/challenges').send({ email: 'headers@example.com', locale: 'de' }).expect(202);
    await t.codeFor(issued.body.challengeId);
  });
  afterAll(async () => {
    await t?.close(); // and drops its database
  });

  /** Every HTML or mail-part response a browser can open, with the policy it must carry. */
  async function pages(): Promise<[string, request.Response][]> {
    const [mail] = t.mailbox.entries().codes;
    const out: [string, request.Response][] = [];
    for (const path of ['/', '/account', '/transfer']) out.push([path, await http().get(path).set('Accept', 'text/html').set('Accept-Language', 'fr')]);
    out.push(['/dev/mailbox', await http().get('/dev/mailbox').set('Accept', 'text/html')]);
    out.push(['html part', await http().get(`/dev/mailbox/${mail.id}/de/html`)]);
    out.push(['text part', await http().get(`/dev/mailbox/${mail.id}/pt/text`)]);
    return out;
  }

  it('every page is never cached, never framed, and runs no script but same-origin files (CSP); the app pages carry the full page policy', async () => {
    for (const [name, res] of await pages()) {
      const csp = directives(res.headers['content-security-policy']);
      expect({ name, status: res.status, cache: res.headers['cache-control'], frame: res.headers['x-frame-options'] })
        .toEqual({ name, status: 200, cache: 'no-store', frame: 'DENY' });
      expect({ name, csp }).toEqual({ name, csp: expect.arrayContaining(["frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"]) });
      const scripts = csp.find((d) => d.startsWith('script-src')) ?? csp.find((d) => d.startsWith('default-src'));
      expect({ name, scripts }).toEqual({ name, scripts: expect.stringMatching(/^(script|default)-src '(self|none)'$/) });
      if (name.startsWith('/') && name !== '/dev/mailbox') expect({ name, csp }).toEqual({ name, csp: expect.arrayContaining(APP_PAGE_DIRECTIVES) });
    }
  });

  it('no HTML response holds an inline <script>, an inline event handler, or (on the app pages) a style attribute the CSP would block', async () => {
    for (const [name, res] of await pages()) {
      if (!/^text\/html/.test(res.headers['content-type'])) continue;
      expect({ name, inline: INLINE_SCRIPT.exec(res.text)?.[0] ?? null, handler: /\son[a-z]+\s*=/i.exec(res.text)?.[0] ?? null })
        .toEqual({ name, inline: null, handler: null });
      if (name !== 'html part') expect({ name, style: /\sstyle\s*=/i.exec(res.text)?.[0] ?? null }).toEqual({ name, style: null });
    }
  });

  it('the JSON routes keep their own policy: an API answer is not given the page policy', async () => {
    const res = await http().post('/auth/otp/challenges').send({ email: 'api@example.com' }).expect(202);
    const pageRes = await http().get('/');
    expect(res.headers['content-security-policy']).toBeDefined();
    expect(res.headers['content-security-policy']).not.toBe(pageRes.headers['content-security-policy']);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  });

  it('serves the stylesheet and scripts from this origin with their types, and nothing else under /assets', async () => {
    const css = await http().get('/assets/pages.css').expect(200);
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(css.text).toMatch(/prefers-color-scheme: dark/);
    for (const script of ['common.js', 'sign-in.js', 'account.js', 'transfer.js']) {
      const res = await http().get(`/assets/${script}`).expect(200);
      expect([script, res.headers['content-type'], res.headers['x-content-type-options']]).toEqual([script, 'text/javascript; charset=utf-8', 'nosniff']);
    }
    for (const path of ['/assets/..%2Fpackage.json', '/assets/pages.css.map', '/assets/', '/assets/%2e%2e']) {
      const res = await http().get(path);
      expect([path, res.status]).toEqual([path, 404]);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
    }
  });

  it('speaks the language the browser asks for (Accept-Language, with q-values), English otherwise', async () => {
    const lang = async (header?: string) => {
      const req = http().get('/');
      const res = header === undefined ? await req : await req.set('Accept-Language', header);
      return /<html lang="([a-z]+)">/.exec(res.text)?.[1];
    };
    expect(await lang('pt-BR,pt;q=0.9,en;q=0.8')).toBe('pt');
    expect(await lang('ja, de;q=0.5, fr;q=0.7')).toBe('fr');
    expect(await lang('de-AT')).toBe('de');
    expect(await lang('ja')).toBe('en');
    expect(await lang()).toBe('en');
    const de = await http().get('/').set('Accept-Language', 'de');
    expect(de.text).toContain('E-Mail-Adresse');
    expect(de.headers.vary).toMatch(/Accept-Language/i);
  });
});
