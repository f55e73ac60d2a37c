import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { OtpConfigError } from '../../core/otp.errors';
import { resolveContextDisplay } from '../otp-context-display';
import { OtpMailComposer } from '../otp-mail.composer';
import { resolveOtpMailOptions } from '../mail-options';
import { OtpMailMessage } from '../otp-mailer.port';
import { defaultTemplatesDir } from './default-templates-dir';
import { OtpMailRenderer } from './otp-mail.renderer';

const options = resolveOtpMailOptions({ from: '"Example Bank" <otp@example.test>', appUrl: 'https://app.example.test' }, false);
const renderer = new OtpMailRenderer(options.templatesDir);
/** What the mail of `transfer` shows, as a host declares it (`purposes.transfer.display`). */
const displays = {
  transfer: resolveContextDisplay('transfer', {
    amount: { type: 'amount', currency: 'EUR', label: { en: 'Amount', pt: 'Montante', de: 'Betrag', fr: 'Montant' } },
    payee: { type: 'identifier', pattern: /[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}/, label: { en: 'Payee', pt: 'Beneficiário', de: 'Empfänger', fr: 'Bénéficiaire' } },
  }, {}),
};
const composer = new OtpMailComposer(renderer, options, displays);
const LANGUAGES = ['en', 'pt', 'de', 'fr'];

function message(overrides: Partial<OtpMailMessage> = {}): OtpMailMessage {
  return {
    challengeId: '00000000-0000-4000-8000-000000000001',
    messageId: '00000000-0000-4000-8000-0000000000aa',
    to: 'person@example.com',
    code: '482913',
    purpose: 'login',
    requestedAt: new Date('2026-03-04T09:30:00Z'),
    expiresAt: new Date('2026-03-04T09:40:00Z'),
    ip: '203.0.113.7',
    userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
    ...overrides,
  };
}

const purposes: [string, Partial<OtpMailMessage>][] = [
  ['login', {}],
  ['verify-email', { purpose: 'verify-email' }],
  ['transaction', { purpose: 'transfer', context: { amount: 1250.5, payee: 'ACME Ltd' } }],
  ['generic-code', { purpose: 'close-account' }],
];

describe('OtpMailRenderer: typed, localised, strict templates', () => {
  it.each(LANGUAGES.flatMap((lang) => purposes.map(([name, m]) => [lang, name, m] as const)))(
    'R21/R36: %s %s renders the code only in the body, with every anti-phishing line (text snapshot)',
    (lang, _name, overrides) => {
      const mail = composer.code(message({ locale: lang, ...overrides }));
      expect(mail.lang).toBe(lang);
      expect(mail.text).toMatchSnapshot();
      for (const part of [mail.text, mail.html]) {
        expect(part).toContain('482913');
        expect(part).toContain('app.example.test');
        expect(part).toContain('203.0.113.7');
        expect(part).toContain('Chrome on Windows');
        expect(part).toContain('Example Bank');
      }
      expect(mail.subject).not.toContain('482913');
      expect(mail.subject).toContain('Example Bank');
      const preheader = /<div style="display:none[^>]*>([^<]*)<\/div>/.exec(mail.html)?.[1];
      expect(preheader).toBeTruthy();
      expect(preheader).not.toContain('482913');
      expect(mail.html).not.toMatch(/href=[^>]*482913/);
      expect(mail.html).toContain(`<html lang="${lang}">`);
      expect(mail.headers).toMatchObject({ 'Auto-Submitted': 'auto-generated', 'X-Entity-Ref-ID': '00000000-0000-4000-8000-0000000000aa' });
      expect(mail.messageId).toBe('<00000000-0000-4000-8000-0000000000aa@example.test>');
      if (overrides.context) {
        const amount = new Intl.NumberFormat(lang, { style: 'currency', currency: 'EUR' }).format(1250.5);
        for (const part of [mail.text, mail.html]) {
          expect(part).toContain(amount);
          expect(part).toContain('ACME Ltd');
        }
      }
    },
  );

  it.each(LANGUAGES)('R13: the budget notice renders in %s (text snapshot), without any code', (lang) => {
    const mail = composer.notice({
      kind: 'budget-notice', challengeId: 'c', to: 'person@example.com', locale: lang, lockSeconds: 86_400,
      happenedAt: new Date('2026-03-04T09:45:00Z'), ip: '203.0.113.7', userAgent: 'curl/8.5.0',
    });
    expect(mail.text).toMatchSnapshot();
    expect(mail.text).toContain('24');
    expect(mail.text).toContain('203.0.113.7');
    expect(mail.html).toContain('app.example.test');
  });

  it.each(LANGUAGES)('R19/R36: the new-device notice renders in %s (text snapshot): time in UTC, browser, network, APP_URL, no link', (lang) => {
    const mail = composer.notice({
      kind: 'new-device-notice', to: 'person@example.com', locale: lang, happenedAt: new Date('2026-03-04T09:45:00Z'),
      browser: 'Firefox on Linux', network: '203.0.113.0/24', messageId: '00000000-0000-4000-8000-0000000000bb',
    });
    expect(mail.lang).toBe(lang);
    expect(mail.text).toMatchSnapshot();
    for (const part of [mail.text, mail.html]) {
      expect(part).toMatch(/9:45( AM)? UTC/);
      for (const fact of ['Firefox on Linux', '203.0.113.0/24', 'https://app.example.test/', 'app.example.test', 'Example Bank']) {
        expect(part).toContain(fact);
      }
    }
    expect(mail.subject).toContain('Example Bank');
    expect(mail.html).not.toMatch(/<a\s|href=/i);
    expect(mail.headers).toMatchObject({ 'Auto-Submitted': 'auto-generated', 'X-Entity-Ref-ID': '00000000-0000-4000-8000-0000000000bb' });
  });

  it('R19: a new-device notice without user agent or IP says "unknown" in the reader\'s language', () => {
    const mail = composer.notice({ kind: 'new-device-notice', to: 'person@example.com', locale: 'de', happenedAt: new Date() });
    expect(mail.text).toContain('Browser: unbekannt.');
    expect(mail.text).toContain('Netz unbekannt');
  });

  it('falls back pt-BR -> pt -> en, for subjects too', () => {
    expect(renderer.resolveLanguage('pt-BR')).toBe('pt');
    expect(renderer.resolveLanguage('PT_br')).toBe('pt');
    expect(renderer.resolveLanguage('de-AT')).toBe('de');
    expect(renderer.resolveLanguage('fr-CA')).toBe('fr');
    expect(renderer.resolveLanguage('ja-JP')).toBe('en');
    expect(renderer.resolveLanguage(undefined)).toBe('en');
    const br = composer.code(message({ locale: 'pt-BR' }));
    expect(br.subject).toBe('Example Bank: o seu código de acesso');
    expect(br.text).toContain('mar. de 2026'); // dates in the reader's own locale (pt-BR)
    expect(composer.code(message({ locale: 'ja-JP' })).subject).toBe('Example Bank: your sign-in code');
  });

  it('every locale has exactly the strings of English, and a missing string falls back to English', () => {
    const dir = join(options.templatesDir, 'locales');
    const keys = (file: string) => {
      const strings = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, Record<string, string>>;
      return Object.entries(strings).flatMap(([g, v]) => Object.keys(v).map((k) => `${g}.${k}`)).sort();
    };
    const files = readdirSync(dir);
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) expect(keys(f)).toEqual(keys('en.json'));

    const tmp = copyTemplates();
    try {
      writeFileSync(join(tmp, 'locales', 'es.json'), JSON.stringify({ login: { subject: '{{serviceName}}: tu código de acceso' } }));
      const partial = new OtpMailRenderer(tmp);
      const mail = new OtpMailComposer(partial, options).code(message({ locale: 'es-MX' }));
      expect(mail.subject).toBe('Example Bank: tu código de acceso');
      expect(mail.text).toContain('We will never ask you for this code');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('R36: a mail shows only the fields its purpose declares, rendered by type: a hostile key or value never appears', () => {
    const hostile = 'FRAUD ALERT call 0800 555 0100 now';
    const mail = composer.code(message({ purpose: 'transfer', context: { note: hostile, amount: 1250.5, payee: 'ACME Ltd', FRAUD: 'x' } }));
    for (const part of [mail.text, mail.html]) {
      expect(part).toContain('Amount');
      expect(part).toContain('€1,250.50');
      expect(part).toContain('ACME Ltd');
      expect(part).not.toMatch(/FRAUD|0800|note/);
    }
    const de = composer.code(message({ purpose: 'transfer', locale: 'de-DE', context: { amount: 1250.5, payee: 'ACME Ltd' } }));
    expect(de.text).toContain('Betrag: 1.250,50\u00a0€');
    expect(de.text).toContain('Empfänger: ACME Ltd');
  });

  it('R36: an identifier outside its pattern and an amount that is not a number are left out, not printed', () => {
    const mail = composer.code(message({ purpose: 'transfer', context: { amount: '1 EUR, call 0800 555 0100', payee: '+44 800 555 0100 now' } }));
    for (const part of [mail.text, mail.html]) {
      expect(part).not.toMatch(/0800|800 555|Amount|Payee/);
    }
  });

  it('R36: a purpose that declares no display shows none of its context, whatever the template', () => {
    const hostile = { to: 'FRAUD ALERT call 0800 555 0100 now', amount: 1 };
    for (const purpose of ['close-account', 'step-up']) {
      const mail = composer.code(message({ purpose, context: hostile }));
      for (const part of [mail.text, mail.html]) expect(part).not.toMatch(/FRAUD|0800/);
      expect(mail.text).toContain('482913');
    }
  });

  it('R36: escapes every value in HTML: a payee or browser cannot inject markup', () => {
    const anything = { transfer: resolveContextDisplay('transfer', { payee: { type: 'identifier', pattern: /.+/ } }, {}) };
    const mail = new OtpMailComposer(renderer, options, anything).code(message({
      purpose: 'transfer', context: { payee: '<img src=x onerror=alert(1)>' }, userAgent: '<script>alert(1)</script>',
    }));
    expect(mail.html).not.toContain('<img src=x');
    expect(mail.html).not.toContain('<script>');
    expect(mail.html).toContain('&lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
  });

  it('R36: a template that prints unescaped ({{{ }}}) fails at start-up (test/source-hygiene checks the shipped ones)', () => {
    const tmp = copyTemplates();
    try {
      writeFileSync(join(tmp, 'login.html.hbs'), '<p>{{{code}}}</p>');
      expect(() => new OtpMailRenderer(tmp)).toThrow(OtpConfigError);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('strict mode: a context missing a field fails loudly instead of printing a blank', () => {
    expect(() => renderer.render('login', 'en', { serviceName: 'x', appHost: 'y' } as never)).toThrow(/not defined/);
  });
});

function copyTemplates(): string {
  const tmp = mkdtempSync(join(tmpdir(), 'otp-templates-'));
  cpSync(options.templatesDir, tmp, { recursive: true });
  return tmp;
}

describe('Template locations: the package by default, mail.templatesDir for a whole set, mail.templatesOverlay for some files', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const tmpDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'otp-overlay-'));
    dirs.push(d);
    return d;
  };
  const overlayWith = (files: Record<string, string>) => {
    const d = tmpDir();
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(join(d, dirname(file)), { recursive: true });
      writeFileSync(join(d, file), content);
    }
    return d;
  };
  const compose = (r: OtpMailRenderer) => new OtpMailComposer(r, options, displays);

  it('templates resolve from the package itself, whatever the working directory', () => {
    const cwd = process.cwd();
    try {
      process.chdir(tmpDir());
      expect(resolveOtpMailOptions({}, false).templatesDir).toBe(join(__dirname, '..', '..', '..', '..', 'templates'));
      expect(defaultTemplatesDir()).toBe(options.templatesDir);
    } finally {
      process.chdir(cwd);
    }
    expect(existsSync(join(options.templatesDir, 'locales', 'en.json'))).toBe(true);
  });

  it('an overlay replacing locales/de.json and login.html.hbs changes only those', () => {
    const de = JSON.parse(readFileSync(join(options.templatesDir, 'locales', 'de.json'), 'utf8'));
    de.login.subject = '{{serviceName}}: Ihr Anmeldecode (Hausfassung)';
    const overlay = overlayWith({
      'locales/de.json': JSON.stringify(de),
      'login.html.hbs': readFileSync(join(options.templatesDir, 'login.html.hbs'), 'utf8').replace('{{#> html-layout }}', '{{#> html-layout }}<!-- host login -->'),
    });
    const resolved = resolveOtpMailOptions({ from: '"Example Bank" <otp@example.test>', appUrl: 'https://app.example.test', templatesOverlay: overlay }, false);
    expect(resolved.templatesOverlay).toBe(overlay);
    const withOverlay = compose(new OtpMailRenderer(resolved.templatesDir, 'en', resolved.templatesOverlay));
    const plain = compose(renderer);

    const deLogin = withOverlay.code(message({ locale: 'de' }));
    expect(deLogin.subject).toBe('Example Bank: Ihr Anmeldecode (Hausfassung)');
    expect(deLogin.html).toContain('<!-- host login -->');
    const enLogin = withOverlay.code(message({ locale: 'en' }));
    expect(enLogin.html).toContain('<!-- host login -->');
    expect(enLogin.text).toBe(plain.code(message({ locale: 'en' })).text);
    expect(enLogin.subject).toBe(plain.code(message({ locale: 'en' })).subject);
    for (const locale of ['de', 'en', 'fr']) {
      const a = withOverlay.code(message({ locale, purpose: 'verify-email' }));
      const b = plain.code(message({ locale, purpose: 'verify-email' }));
      expect([a.subject, a.text, a.html]).toEqual([b.subject, b.text, b.html]);
    }
    expect(plain.code(message({ locale: 'de' })).html).not.toContain('<!-- host login -->');
  });

  it.each([
    ['locales/de.json', '{ "login": ', /locales\/de\.json.*not valid JSON/],
    ['locales/de.json', JSON.stringify({ login: { subjekt: 'x' } }), /locales\/de\.json.*login\.subjekt/],
    ['partials/html-layout.hbs', '<p>{{{ code }}}</p>', /partials\/html-layout\.hbs.*unescaped/],
    ['login.text.hbs', '{{#if code}}unclosed', /login\.text\.hbs/],
    ['logn.html.hbs', '<p>{{code}}</p>', /logn\.html\.hbs.*not a template file/],
  ])('a bad overlay file fails start-up naming it: %s', (file, content, message) => {
    const overlay = overlayWith({ [file]: content });
    expect(() => new OtpMailRenderer(options.templatesDir, 'en', overlay)).toThrow(OtpConfigError);
    expect(() => new OtpMailRenderer(options.templatesDir, 'en', overlay)).toThrow(message);
  });

  it('mail.templatesDir with a missing file fails start-up naming it', () => {
    const dir = copyTemplates();
    dirs.push(dir);
    rmSync(join(dir, 'transaction.text.hbs'));
    expect(() => new OtpMailRenderer(dir)).toThrow(OtpConfigError);
    expect(() => new OtpMailRenderer(dir)).toThrow(/transaction\.text\.hbs.*missing/);
    rmSync(join(dir, 'locales'), { recursive: true });
    expect(() => new OtpMailRenderer(dir)).toThrow(/locales.*missing/);
  });
});
