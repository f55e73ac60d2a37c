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
}

/** One page to picture: loaded at `path`, then brought into the state worth showing by `prepare`. */
export interface DocsPage {
  /** File name stem: `docs/images/<name>.<lang>.png`. */
  name: string;
  path: string;
  prepare?(page: Page, ctx: DocsContext): Promise<void>;
}

/** The console, signed in, after a search for the demo sign-in, once the chain status is in. */
async function consoleSignedIn(page: Page, ctx: DocsContext): Promise<void> {
  await page.locator('#token').fill(ctx.adminToken);
  await page.keyboard.press('Enter');
  await page.locator('#audit-form').waitFor();
  await page.locator('#email').fill(ctx.demoAddress);
  await page.locator('#email').press('Enter');
  await page.locator('#audit-table tbody tr', { hasText: 'verify.succeeded' }).waitFor();
  await page.locator('#chain-verdict').waitFor();
  await page.locator('#deliveries-table tbody tr').first().waitFor();
  await page.locator('#keys dd').first().waitFor();
  await page.locator('#email').blur();
}

/** Every page of the docs' pictures (the example app's pages add themselves here). */
export const PAGES: DocsPage[] = [{ name: 'console', path: '/admin', prepare: consoleSignedIn }];

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

async function signInOnce(app: INestApplication, base: string, email: string): Promise<void> {
  const post = (path: string, body: object) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const issued = (await (await post('/auth/otp/challenges', { email })).json()) as { challengeId: string };
  const mailbox = app.get(OtpMailer) as DevMailboxMailer;
  const until = Date.now() + 15_000;
  let mail = mailbox.list().find((m) => m.challengeId === issued.challengeId);
  while (!mail && Date.now() < until) {
    await app.get(OtpMailDispatcher).whenIdle();
    mail = mailbox.list().find((m) => m.challengeId === issued.challengeId);
  }
  if (!mail) throw new Error('the demo sign-in was never mailed');
  const verified = await post(`/auth/otp/challenges/${issued.challengeId}/verify`, { code: mail.code });
  if (verified.status !== 200) throw new Error(`the demo sign-in was refused (${verified.status})`);
  await app.get(OtpMailDispatcher).whenIdle();
}

async function picture(page: Page, file: string, fullPage: boolean): Promise<void> {
  await page.screenshot({ path: file, fullPage, type: 'png' });
  console.log(`wrote ${relative(ROOT, file)} (${Math.round(statSync(file).size / 1024)} kB)`);
}

async function picturePages(browser: TestBrowser, ctx: Omit<DocsContext, 'lang'>): Promise<void> {
  for (const lang of LANGUAGES) {
    for (const p of PAGES) {
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
    // Four languages of console pictures outrun the operator throttler's default 30 a minute.
    RATE_LIMIT_OPERATOR: '1000/60',
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
    await picturePages(browser, { base, adminToken, demoAddress });
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
