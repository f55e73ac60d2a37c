/**
 * `npm run docs:screenshots`: renders each page of the example app and each mail template, in
 * every language, to PNG under docs/images/ with the browser of the browser tests (Debian's
 * chromium through playwright-core). The app runs in this process on the embedded database, with
 * keys and an operator token made now; nothing is kept. To picture another page, add it to PAGES.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { join, relative, resolve } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { Page } from 'playwright-core';
import { createApp, listenApp } from '../src/app/app.factory';
import { otpOptionsFromEnv } from '../src/app/app.config';
import { AppModule } from '../src/app/app.module';
import { OtpMailer } from '../src/otp';
import { DevMailboxMailer } from '../src/otp/mail/dev-mailbox.mailer';
import { OtpMailDispatcher } from '../src/otp/mail/outbox/otp-mail.dispatcher';
import { resolveContextDisplay } from '../src/otp/mail/otp-context-display';
import { OtpMailComposer } from '../src/otp/mail/otp-mail.composer';
import { resolveOtpMailOptions } from '../src/otp/mail/mail-options';
import { OtpMailMessage, OtpNoticeMessage } from '../src/otp/mail/otp-mailer.port';
import { OtpMailRenderer } from '../src/otp/mail/templates/otp-mail.renderer';
import { launchBrowser, TestBrowser } from '../test/support/browser';

const ROOT = resolve(__dirname, '..');
const OUT = join(ROOT, 'docs', 'images');
export const LANGUAGES = ['en', 'pt', 'de', 'fr'] as const;
type Lang = (typeof LANGUAGES)[number];

/** What a page's `prepare` may use: the running app, its operator token and the demo sign-in. */
export interface DocsContext {
  base: string;
  adminToken: string;
  /** An address that signed in once (issued and verified through the JSON API) before any picture. */
  demoAddress: string;
  lang: Lang;
  /** Runs `ask` (which makes the app mail a code to `email`) and resolves with that new code, read from the mailbox. */
  nextCode(email: string, ask: () => Promise<void>): Promise<string>;
}

/** One page to picture: loaded at `path`, then brought into the state worth showing by `prepare`. */
export interface DocsPage {
  /** File name stem: `docs/images/<name>.<lang>.png`. */
  name: string;
  path: string;
  prepare?(page: Page, ctx: DocsContext): Promise<void>;
  /** The languages to picture it in (a page whose own labels are English only needs one). @default LANGUAGES */
  languages?: readonly Lang[];
}

/** The sign-in page's second step: a code was asked for the demo address, the code field is waiting. */
async function askCode(page: Page, ctx: DocsContext): Promise<void> {
  await page.locator('#email').fill(ctx.demoAddress);
  await page.locator('#email').press('Enter');
  await page.locator('#code').waitFor({ state: 'visible' });
}

/** Signs the demo address in as a person does on `/` (the code read from the mailbox); ends on the account page. */
async function signInInPage(page: Page, ctx: DocsContext): Promise<void> {
  const code = await ctx.nextCode(ctx.demoAddress, () => askCode(page, ctx));
  await page.locator('#code').fill(code);
  await page.locator('#code').press('Enter');
  await page.waitForURL(`${ctx.base}/account`);
  await page.locator('#me-email', { hasText: ctx.demoAddress }).waitFor();
  await page.locator('#me-expires').filter({ hasText: /\S/ }).waitFor();
}

/** The approval step of `/transfer`: a code was asked for 125.50 to alice, the bound details shown next to its field. */
async function transferAwaitingCode(page: Page, ctx: DocsContext): Promise<void> {
  await page.goto(`${ctx.base}/`);
  await signInInPage(page, ctx);
  await page.goto(`${ctx.base}/transfer`);
  await page.locator('#amount').fill('125.50');
  await page.locator('#payee').fill('alice');
  await ctx.nextCode(ctx.demoAddress, () => page.locator('#payee').press('Enter'));
  await page.locator('#details dd').first().waitFor();
  await page.locator('#code').blur();
}

/** The mailbox page once the mails of the pictures before it are in. */
async function mailboxWithMails(page: Page): Promise<void> {
  await page.locator('article').first().waitFor();
}

/** The console, signed in, after a search for the demo sign-in, once the chain status is in. */
async function consoleSignedIn(page: Page, ctx: DocsContext): Promise<void> {
  await page.locator('#token').fill(ctx.adminToken);
  await page.keyboard.press('Enter');
  await page.locator('#audit-form').waitFor();
  await page.locator('#email').fill(ctx.demoAddress);
  await page.locator('#email').press('Enter');
  await page.locator('#audit-table tbody tr', { hasText: 'verify.succeeded' }).first().waitFor(); // the pages before it signed in too
  await page.locator('#chain-verdict').waitFor();
  await page.locator('#deliveries-table tbody tr').first().waitFor();
  await page.locator('#keys dd').first().waitFor();
  await page.locator('#email').blur();
}

/** Every page of the docs' pictures (the example app's pages add themselves here). */
export const PAGES: DocsPage[] = [
  { name: 'sign-in', path: '/' },
  { name: 'sign-in-code', path: '/', prepare: async (page, ctx) => { await askCode(page, ctx); await page.locator('#code').blur(); } },
  { name: 'account', path: '/', prepare: signInInPage },
  { name: 'transfer', path: '/transfer', prepare: transferAwaitingCode },
  { name: 'console', path: '/admin', prepare: consoleSignedIn },
  // Its own labels are English (a developer tool); the mails it opens are pictured below in every language.
  { name: 'mailbox', path: '/dev/mailbox', prepare: mailboxWithMails, languages: ['en'] },
];

/** One sample of every mail template, as the example app would send it. */
function sampleMails(lang: Lang): { name: string; html: string }[] {
  const transfer = otpOptionsFromEnv({}).purposes!.transfer;
  const options = resolveOtpMailOptions({ from: '"Example Bank" <otp@example.test>', appUrl: 'https://app.example.test' }, false);
  const composer = new OtpMailComposer(new OtpMailRenderer(options.templatesDir), options, {
    transfer: resolveContextDisplay('transfer', transfer.display, transfer.contextFields ?? {}),
  });
  const at = new Date('2026-03-04T09:30:00Z');
  const code = (purpose: string, extra: Partial<OtpMailMessage> = {}): OtpMailMessage => ({
    challengeId: '00000000-0000-4000-8000-000000000001', messageId: '00000000-0000-4000-8000-0000000000aa', to: 'ada@example.com',
    code: '482913', purpose, requestedAt: at, expiresAt: new Date(at.getTime() + 600_000), ip: '203.0.113.7', locale: lang,
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', ...extra,
  });
  const notice = (n: OtpNoticeMessage) => composer.notice(n).html;
  return [
    { name: 'login', html: composer.code(code('login')).html },
    { name: 'verify-email', html: composer.code(code('verify-email')).html },
    { name: 'transaction', html: composer.code(code('transfer', { context: { amount: 125.5, to: 'alice' } })).html },
    { name: 'generic-code', html: composer.code(code('close-account')).html },
    { name: 'budget-notice', html: notice({ kind: 'budget-notice', challengeId: '00000000-0000-4000-8000-000000000002', to: 'ada@example.com', locale: lang, happenedAt: at, ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', lockSeconds: 86_400 }) },
    { name: 'new-device-notice', html: notice({ kind: 'new-device-notice', to: 'ada@example.com', locale: lang, happenedAt: at, browser: 'Firefox on Linux', network: '203.0.113.0/24' }) },
  ];
}

/** Runs `ask`, then waits (15 s at most) for the code it made the app mail to `email`. */
async function nextCode(app: INestApplication, email: string, ask: () => Promise<void>): Promise<string> {
  const mailbox = app.get(OtpMailer) as DevMailboxMailer;
  const before = new Set(mailbox.list());
  const fresh = () => mailbox.list().find((m) => m.to === email && !before.has(m));
  await ask();
  const until = Date.now() + 15_000;
  while (!fresh() && Date.now() < until) {
    await app.get(OtpMailDispatcher).whenIdle();
    await new Promise((tick) => setTimeout(tick, 25)); // the outbox sends on its own timer: poll, never spin
  }
  const mail = fresh();
  if (!mail) throw new Error(`no code was mailed to ${email}`);
  await app.get(OtpMailDispatcher).whenIdle();
  return mail.code;
}

async function signInOnce(app: INestApplication, base: string, email: string): Promise<void> {
  const post = (path: string, body: object) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  let challengeId = '';
  const code = await nextCode(app, email, async () => {
    challengeId = ((await (await post('/auth/otp/challenges', { email })).json()) as { challengeId: string }).challengeId;
  });
  const verified = await post(`/auth/otp/challenges/${challengeId}/verify`, { code });
  if (verified.status !== 200) throw new Error(`the demo sign-in was refused (${verified.status})`);
  await app.get(OtpMailDispatcher).whenIdle();
}

async function picture(page: Page, file: string, fullPage: boolean): Promise<void> {
  await page.screenshot({ path: file, fullPage, type: 'png' });
  console.log(`wrote ${relative(ROOT, file)} (${Math.round(statSync(file).size / 1024)} kB)`);
}

async function picturePages(browser: TestBrowser, ctx: Omit<DocsContext, 'lang'>): Promise<void> {
  for (const lang of LANGUAGES) {
    for (const p of PAGES.filter((page) => (page.languages ?? LANGUAGES).includes(lang))) {
      const page = await browser.newPage({ locale: lang });
      await page.goto(`${ctx.base}${p.path}`);
      await p.prepare?.(page, { ...ctx, lang });
      await picture(page, join(OUT, `${p.name}.${lang}.png`), false);
    }
  }
}

async function pictureMails(browser: TestBrowser): Promise<void> {
  const page = await browser.newPage();
  await page.setViewportSize({ width: 640, height: 480 });
  for (const lang of LANGUAGES) {
    for (const mail of sampleMails(lang)) {
      await page.setContent(mail.html, { waitUntil: 'load' });
      await picture(page, join(OUT, `mail-${mail.name}.${lang}.png`), true);
    }
  }
}

async function main(): Promise<void> {
  const adminToken = randomBytes(32).toString('base64url');
  const env: NodeJS.ProcessEnv = {
    OTP_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    OTP_ENCRYPTION_KEYS: `e1:${randomBytes(32).toString('base64')}`,
    OTP_ADMIN_TOKEN: adminToken,
    // Four languages of pictures outrun the default limits: the operator throttler's 30 a minute,
    // and the per-address and per-IP limits of the sign-ins and transfers made for them.
    RATE_LIMIT_OPERATOR: '1000/60',
    RATE_LIMIT_IP_SEND: '1000/60',
    RATE_LIMIT_IP_VERIFY: '1000/60',
    RATE_LIMIT_RECIPIENT: '1000/60',
    RATE_LIMIT_RECIPIENT_DAILY: '1000/86400',
    RATE_LIMIT_VERIFY_RECIPIENT_IP: '1000/600',
    RATE_LIMIT_NETWORK_SEND: '1000/60',
    RATE_LIMIT_GLOBAL_SEND: '1000/60',
    LOG_LEVEL: 'warn',
    PATH: process.env.PATH,
  };
  const browser = await launchBrowser();
  const app = await createApp(AppModule.forEnv(env), env);
  try {
    await listenApp(app, 0, '127.0.0.1');
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    const demoAddress = 'ada@example.com';
    await signInOnce(app, base, demoAddress);
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    await picturePages(browser, { base, adminToken, demoAddress, nextCode: (email, ask) => nextCode(app, email, ask) });
    await pictureMails(browser);
  } finally {
    await browser.close();
    await app.close();
  }
}

if (require.main === module) {
  main().catch((err: Error) => {
    console.error(`docs:screenshots failed: ${err.message}`);
    process.exit(1);
  });
}
