import { Page } from 'playwright-core';
import request from 'supertest';
import { launchBrowser, seriousAxeViolations, TestBrowser, withScreenshotOnFailure } from '../support/browser';
import { HTTP_ADAPTERS, pollFor, RELAXED_RATE_LIMITS } from '../support/test-app';
import { BootedTestApp, testApp } from '../support/test-app.builder';

jest.setTimeout(180_000);

const SESSION_KEY = 'otp-example-session';

/** The page's globals as the callbacks below use them (this project compiles without the DOM library). */
type PageGlobals = {
  sessionStorage: { getItem(key: string): string | null };
  document: { activeElement: { id: string } | null; getElementById(id: string): { disabled?: boolean } | null };
};


describe.each(HTTP_ADAPTERS)('the pages in a real browser (%s)', (adapter) => {
  let t: BootedTestApp;
  let browser: TestBrowser;
  let base: string;

  beforeAll(async () => {
    // A 2 s resend cooldown: the countdown runs out during the test instead of after a minute. Three mails
    // a minute per address: enough for every test here, and the fourth one is the 429 the wait test needs.
    t = await testApp()
      .withDatabase()
      .adapter(adapter)
      .env({ ...RELAXED_RATE_LIMITS, RATE_LIMIT_RECIPIENT: '3/60', OTP_RESEND_COOLDOWN_SECONDS: '2' })
      .listen()
      .boot();
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as { port: number }).port}`;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close(); // and drops its database
  });

  const address = (name: string) => `${name}-${adapter}@example.com`;

  async function expectAccessible(page: Page, what: string): Promise<void> {
    expect({ what, violations: await seriousAxeViolations(page) }).toEqual({ what, violations: [] });
  }

  /** The newest code mailed to `email`, read from the mailbox PAGE (reloaded until `count` mails are there). */
  async function codeFromMailboxPage(page: Page, email: string, count = 1): Promise<{ code: string; textHref: string }> {
    const mailbox = await page.context().newPage();
    try {
      return await pollFor(async () => {
        await mailbox.goto(`${base}/dev/mailbox`);
        const mails = mailbox.locator('article').filter({ has: mailbox.getByText(email, { exact: true }) });
        if ((await mails.count()) < count) return undefined;
        const newest = mails.first();
        return { code: (await newest.locator('.code').textContent())!.trim(), textHref: (await newest.getByRole('link', { name: /^text/ }).first().getAttribute('href'))! };
      });
    } finally {
      await mailbox.close();
    }
  }

  async function askCode(page: Page, email: string, button = 'Email me a code'): Promise<void> {
    await page.goto(`${base}/`);
    await page.locator('#email').fill(email);
    await page.getByRole('button', { name: button }).click();
    await page.locator('#code').waitFor({ state: 'visible' });
  }

  /** Types the whole code at once, as a paste does, in the "123 456" form some mail readers copy. */
  async function pasteCode(page: Page, code: string): Promise<void> {
    await page.locator('#code').fill('');
    await page.locator('#code').focus();
    await page.keyboard.insertText(`${code.slice(0, 3)} ${code.slice(3)}`);
  }

  async function signIn(page: Page, email: string): Promise<void> {
    await askCode(page, email);
    await pasteCode(page, (await codeFromMailboxPage(page, email)).code);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/account`);
    await page.getByText(email, { exact: true }).waitFor();
  }

  it('signs in with the code read from the mailbox page, shows the account, and signs out (axe: no serious or critical violation)', async () => {
    const page = await browser.newPage();
    const email = address('sign-in');
    await withScreenshotOnFailure(page, `sign-in-${adapter}`, async () => {
      await page.goto(`${base}/`);
      await expectAccessible(page, 'sign-in page');
      await askCode(page, email);
      const code = page.locator('#code');
      expect([await code.getAttribute('autocomplete'), await code.getAttribute('inputmode')]).toEqual(['one-time-code', 'numeric']);
      await expectAccessible(page, 'code step');
      const mailbox = await page.context().newPage();
      await mailbox.goto(`${base}/dev/mailbox`);
      await expectAccessible(mailbox, 'mailbox page');
      await mailbox.close();
      await pasteCode(page, (await codeFromMailboxPage(page, email)).code);
      expect(await code.inputValue()).toMatch(/^\d{6}$/);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${base}/account`);
      await page.getByText(email, { exact: true }).waitFor();
      expect(await page.locator('#me-amr').textContent()).toBe('otp_email');
      await expectAccessible(page, 'account page');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${base}/`);
      await page.getByText('You are signed out.').waitFor();
      expect(await page.evaluate((key) => (globalThis as unknown as PageGlobals).sessionStorage.getItem(key), SESSION_KEY)).toBeNull();
      await page.goto(`${base}/account`);
      await page.getByText('You are not signed in.').waitFor();
    });
  });

  it('a wrong code is refused with a clear message, then the right one signs in (in Portuguese, mail and page)', async () => {
    const page = await browser.newPage({ locale: 'pt-PT' });
    const email = address('wrong-then-right');
    await withScreenshotOnFailure(page, `wrong-code-${adapter}`, async () => {
      await askCode(page, email, 'Enviar-me um código');
      const { code } = await codeFromMailboxPage(page, email);
      expect(t.mailbox.list().find((m) => m.to === email)?.locale).toBe('pt');
      const wrong = code.slice(0, 5) + String((Number(code[5]) + 1) % 10);
      await pasteCode(page, wrong);
      await page.getByRole('button', { name: 'Entrar' }).click();
      await page.getByText('Esse código não está certo. Veja o email mais recente e tente de novo.').waitFor();
      expect(page.url()).toBe(`${base}/`);
      await pasteCode(page, code);
      await page.getByRole('button', { name: 'Entrar' }).click();
      await page.waitForURL(`${base}/account`);
      await page.getByText(email, { exact: true }).waitFor();
    });
  });

  it('resend counts the cooldown down, then sends a fresh code that signs in', async () => {
    const page = await browser.newPage();
    const email = address('resend');
    await withScreenshotOnFailure(page, `resend-${adapter}`, async () => {
      await askCode(page, email);
      const resend = page.getByRole('button', { name: 'Send a new code' });
      expect(await resend.isDisabled()).toBe(true);
      expect(await page.locator('#countdown').textContent()).toMatch(/^You can ask for a new code in [12] s\.$/);
      await page.waitForFunction(() => !(globalThis as unknown as PageGlobals).document.getElementById('resend')?.disabled, null, { timeout: 15_000 });
      expect(await page.locator('#countdown').textContent()).toBe('');
      await resend.click();
      await page.getByText('A new code is on its way.', { exact: false }).waitFor();
      expect(await resend.isDisabled()).toBe(true);
      const { code } = await codeFromMailboxPage(page, email, 2);
      await pasteCode(page, code);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${base}/account`);
    });
  });

  it('a wait (429) is shown with the seconds its Retry-After names, and the page stays on the address step', async () => {
    const page = await browser.newPage();
    const email = address('wait');
    await withScreenshotOnFailure(page, `wait-${adapter}`, async () => {
      await askCode(page, email);
      for (let sent = 2; sent <= 3; sent++) {
        await page.getByRole('button', { name: 'Use another address' }).click();
        await page.locator('#email').fill(email);
        await page.getByRole('button', { name: 'Email me a code' }).click();
        await page.locator('#code').waitFor({ state: 'visible' });
      }
      await page.getByRole('button', { name: 'Use another address' }).click();
      await page.locator('#email').fill(email);
      const [answer] = await Promise.all([
        page.waitForResponse((r) => r.url() === `${base}/auth/otp/challenges`),
        page.getByRole('button', { name: 'Email me a code' }).click(),
      ]);
      const seconds = Number(answer.headers()['retry-after']);
      expect([answer.status(), seconds > 0]).toEqual([429, true]);
      await page.getByText(`Too many attempts. Wait ${seconds} seconds, then try again.`).waitFor();
      expect(await page.locator('#step-code').isHidden()).toBe(true);
    });
  });

  it('sets a password on the account page; the next sign-in asks for it with a fresh code after the right one', async () => {
    const page = await browser.newPage();
    const email = address('password');
    const password = 'correct horse battery staple';
    await withScreenshotOnFailure(page, `password-${adapter}`, async () => {
      await signIn(page, email);
      await page.getByText('You have no password: you sign in with email codes only.').waitFor();
      await page.getByLabel('New password (at least 12 characters)').fill('too short');
      await page.getByRole('button', { name: 'Save password' }).click();
      await page.getByText('The new password needs at least 12 characters (at most 128).').waitFor();
      await page.getByLabel('New password (at least 12 characters)').fill(password);
      await page.getByRole('button', { name: 'Save password' }).click();
      await page.getByText('Password saved. Your other sessions have ended.').waitFor();
      await page.getByLabel('Current password').waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${base}/`);
      await askCode(page, email);
      await pasteCode(page, (await codeFromMailboxPage(page, email, 2)).code);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('This account has a password: enter it together with the new code we just sent.').waitFor();
      await page.getByLabel('Password', { exact: true }).fill(password);
      await pasteCode(page, (await codeFromMailboxPage(page, email, 3)).code);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${base}/account`);
      await page.getByText(email, { exact: true }).waitFor();
      expect(await page.locator('#me-amr').textContent()).toBe('pwd, otp_email');
    });
  });

  it('signs in with the keyboard only (dark scheme, axe clean)', async () => {
    const page = await browser.newPage({ colorScheme: 'dark' });
    const email = address('keyboard');
    await withScreenshotOnFailure(page, `keyboard-${adapter}`, async () => {
      await page.goto(`${base}/`);
      await expectAccessible(page, 'sign-in page, dark');
      const focused = () => page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.id ?? '');
      for (let i = 0; i < 10 && (await focused()) !== 'email'; i++) await page.keyboard.press('Tab');
      expect(await focused()).toBe('email');
      await page.keyboard.type(email);
      await page.keyboard.press('Enter');
      await page.locator('#code').waitFor({ state: 'visible' });
      expect(await focused()).toBe('code');
      await page.keyboard.type((await codeFromMailboxPage(page, email)).code);
      await page.keyboard.press('Enter');
      await page.waitForURL(`${base}/account`);
      await page.getByText(email, { exact: true }).waitFor();
      await expectAccessible(page, 'account page, dark');
    });
  });

  it('approves a transfer with its code, showing the bound details as the mail does, and refuses the code replayed', async () => {
    const page = await browser.newPage();
    const email = address('transfer');
    await withScreenshotOnFailure(page, `transfer-${adapter}`, async () => {
      await signIn(page, email);
      await page.goto(`${base}/transfer`);
      await page.getByLabel('Amount (EUR)').fill('125.5');
      await page.getByLabel('Payee').fill('alice');
      await page.getByRole('button', { name: 'Ask for an approval code' }).click();
      await page.locator('#approve').waitFor({ state: 'visible' });
      await expectAccessible(page, 'transfer page');
      const shown = await page.locator('#details dt, #details dd').allTextContents();
      const { code, textHref } = await codeFromMailboxPage(page, email, 2);
      const mailText = (await request(t.app.getHttpServer()).get(textHref).expect(200)).text;
      const mailed = [...mailText.matchAll(/^ {2}([^:\n]+): (.+)$/gm)].flatMap((m) => [m[1], m[2]]);
      expect(shown).toEqual(mailed);
      expect(shown).toEqual(['Amount', '€125.50', 'Payee', 'alice']);
      await pasteCode(page, code);
      await page.getByRole('button', { name: 'Approve transfer' }).click();
      await page.getByText('Transfer sent: €125.50 to alice.').waitFor();
      await page.getByRole('button', { name: 'Approve transfer' }).click();
      await page.getByText('This code has already been used. Ask for a new code to send another transfer.').waitFor();
      const session = await page.evaluate((key) => (globalThis as unknown as PageGlobals).sessionStorage.getItem(key), SESSION_KEY);
      const transfers = await request(t.app.getHttpServer()).get('/payments/transfers').set('Authorization', `Bearer ${session}`).expect(200);
      expect(transfers.body).toEqual([expect.objectContaining({ amount: 125.5, to: 'alice' })]);
    });
  });
});
