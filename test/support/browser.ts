import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';

/**
 * Headless Debian Chromium driven by playwright-core (it never downloads a browser). Without
 * the package the browser suites fail, naming what to install: they never skip.
 */
export function chromiumPath(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (existsSync(candidate)) return candidate;
  try {
    const found = execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
    if (found) return found;
  } catch {
    // not on PATH either: the error below says what to do
  }
  throw new Error('No Chromium for the browser tests: install it with `apt-get install chromium` (or set CHROMIUM_PATH)');
}

export interface TestBrowser {
  browser: Browser;
  /** A fresh context (own cookies and storage), with the given Accept-Language and colour scheme. */
  newPage(options?: { locale?: string; colorScheme?: 'light' | 'dark' }): Promise<Page>;
  close(): Promise<void>;
}

// Chromium's own background connections are refused by this machine's closed network: turn them off.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-dev-shm-usage',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser(): Promise<TestBrowser> {
  // playwright gives every launch a fresh, empty profile of its own.
  const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
  const contexts: BrowserContext[] = [];
  return {
    browser,
    async newPage(options = {}) {
      const context = await browser.newContext({
        locale: options.locale ?? 'en-US',
        colorScheme: options.colorScheme ?? 'light',
        viewport: { width: 1024, height: 768 },
      });
      contexts.push(context);
      return context.newPage();
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close();
    },
  };
}

const ARTIFACTS = resolve(__dirname, '..', 'artifacts');

/**
 * Runs a browser step; on failure saves a full-page screenshot as `test/artifacts/<name>.png`
 * (git-ignored) before rethrowing, so CI leaves a picture of what the page showed.
 */
export async function withScreenshotOnFailure<T>(page: Page, name: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    throw error;
  }
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's violations of serious or critical impact on the page as it is now. The script is
 * injected through the DevTools protocol (`addScriptTag` with content would need the page's CSP
 * to allow an inline script; `evaluate` runs outside the page's CSP).
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
