import { randomBytes } from 'node:crypto';
import { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import request from 'supertest';
import { untaggedChallengeId } from '../../src/otp';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { HTTP_ADAPTERS, RELAXED_RATE_LIMITS } from '../support/test-app';
import { BootedTestApp, testApp } from '../support/test-app.builder';
import { launchBrowser, seriousAxeViolations, TestBrowser, withScreenshotOnFailure } from '../support/browser';

/** Errors the page logged (a CSP refusal shows up here), collected for the whole test; the browser's own favicon probe aside. */
function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

describe('operator console in a browser (issue 13)', () => {
  let db: TestDatabase;
  let browser: TestBrowser;

  beforeAll(async () => {
    db = await createTestDatabase();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await db?.drop();
  });

  describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
    let t: BootedTestApp;
    let base: string;
    const token = randomBytes(32).toString('base64url');

    beforeAll(async () => {
      t = await testApp().database(db).adapter(adapter).env({ OTP_ADMIN_TOKEN: token, ...RELAXED_RATE_LIMITS }).listen().boot();
      base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await t?.close();
    });

    it('signs in with the token, finds a sign-in in the audit trail by address with the chain ok, signs out; no serious axe violations', async () => {
      const address = `browser.console.${adapter}.${Date.now()}@example.com`;
      const issued = await request(base).post('/auth/otp/challenges').send({ email: address }).expect(202);
      const challengeId: string = issued.body.challengeId;
      await request(base).post(`/auth/otp/challenges/${challengeId}/verify`).send({ code: await t.codeFor(challengeId) }).expect(200);

      const page = await browser.newPage();
      const errors = consoleErrors(page);
      await withScreenshotOnFailure(page, `console-${adapter}`, async () => {
        await page.goto(`${base}/admin`);
        expect(await seriousAxeViolations(page)).toEqual([]);

        // A wrong token first: the page says so and stays on the form.
        await page.getByLabel('Operator token (OTP_ADMIN_TOKEN)').fill('not-the-token');
        await page.getByRole('button', { name: 'Sign in' }).press('Enter');
        await page.getByRole('alert').filter({ hasText: 'That token is not accepted.' }).waitFor();

        await page.getByLabel('Operator token (OTP_ADMIN_TOKEN)').fill(token);
        await page.keyboard.press('Enter');
        await page.getByRole('heading', { name: 'Audit trail' }).waitFor();

        await page.getByLabel('Email address').fill(address);
        await page.getByLabel('Email address').press('Enter');
        // The trail shows the id at rest: its recipient tag zeroed (R30).
        const row = page.locator('#audit-table tbody tr', { hasText: 'verify.succeeded' }).filter({ hasText: untaggedChallengeId(challengeId) });
        await row.waitFor();
        await page.locator('#audit-table tbody tr', { hasText: 'challenge.issued' }).filter({ hasText: untaggedChallengeId(challengeId) }).waitFor();
        await page.locator('#chain-verdict', { hasText: 'ok' }).waitFor();
        expect(await page.locator('#chain-verdict').getAttribute('class')).toBe('ok');
        await page.locator('#deliveries-table tbody tr', { hasText: 'delivered' }).first().waitFor();
        await page.locator('#keys dd', { hasText: 'k1' }).first().waitFor();
        expect(await seriousAxeViolations(page)).toEqual([]);

        // The page never shows the address it searched for beyond the form field.
        expect(await page.locator('main').evaluate((m) => m.textContent ?? '')).not.toContain(address);

        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByLabel('Operator token (OTP_ADMIN_TOKEN)').waitFor();
      });
      // The wrong token's 401 is the one refusal the page saw.
      expect(errors).toEqual([expect.stringMatching(/status of 401 .*\/admin\/session\)$/)]);
    });

    it('is in the reader’s language and dark scheme, and stays usable by keyboard alone', async () => {
      const page = await browser.newPage({ locale: 'de-DE', colorScheme: 'dark' });
      const errors = consoleErrors(page);
      await withScreenshotOnFailure(page, `console-de-dark-${adapter}`, async () => {
        await page.goto(`${base}/admin`);
        expect(await page.locator('html').getAttribute('lang')).toBe('de');
        // Skip link, then the token field, by Tab.
        await page.keyboard.press('Tab');
        expect(await page.locator(':focus').getAttribute('class')).toBe('skip');
        await page.keyboard.press('Tab');
        expect(await page.locator(':focus').getAttribute('id')).toBe('token');
        await page.keyboard.type(token);
        await page.keyboard.press('Enter');
        await page.getByRole('heading', { name: 'Audit-Protokoll' }).waitFor();
        await page.locator('#chain-verdict', { hasText: 'ok' }).waitFor();
        const background = await page.locator('body').evaluate((b) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(b).backgroundColor);
        expect(background).toBe('rgb(20, 23, 27)');
        expect(await seriousAxeViolations(page)).toEqual([]);
      });
      expect(errors).toEqual([]);
    });
  });
});
