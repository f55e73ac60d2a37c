import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { HTTP_ADAPTERS, pollFor, testKeyLine } from '../support/test-app';

jest.setTimeout(240_000);

const root = join(__dirname, '..', '..');
const OPEN = /^open (http:\/\/127\.0\.0\.1:(\d+)\/)$/;

describe.each(HTTP_ADAPTERS)('npm start output (%s)', (adapter) => {
  let db: TestDatabase;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await db?.drop();
  });

  it('ends with one line "open <scheme>://<HOST>:<PORT>/", below every start-up log line, and that address serves the sign-in page', async () => {
    let stdout = '';
    child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/app/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.url, OTP_KEYS: testKeyLine(), OTP_ENCRYPTION_KEYS: testKeyLine('e1'), PORT: '0', HTTP_ADAPTER: adapter, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    const lines = () => stdout.split('\n').filter((l) => l.trim() !== '');
    const openAt = await pollFor(() => {
      const i = lines().findIndex((l) => OPEN.test(l));
      return i >= 0 ? i : undefined;
    }, 200_000);
    const [, url] = OPEN.exec(lines()[openAt])!;
    const res = await fetch(url, { headers: { accept: 'text/html' } });
    expect([res.status, res.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    expect(await res.text()).toContain('autocomplete="one-time-code"');

    const before = lines().slice(0, openAt);
    expect(before.some((l) => l.includes('"context":"Main"') && l.includes(`listening on ${url.slice(0, -1)}`))).toBe(true);
    expect(before.some((l) => l.startsWith('Try it in a browser:'))).toBe(true);
    // After it, only what serving the request above logged: no start-up line arrived late.
    const after = lines().slice(openAt + 1).map((l) => (JSON.parse(l) as { msg?: string }).msg);
    expect(after.every((msg) => msg === 'request completed')).toBe(true);
    expect(lines().filter((l) => OPEN.test(l))).toHaveLength(1);
  });
});
