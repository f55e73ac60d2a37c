import { spawn } from 'node:child_process';
import { createServer, Server } from 'node:net';
import { join } from 'node:path';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { testKeyLine } from './support/test-app';

const root = join(__dirname, '..');

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run start:dev` as a child process (ts-node, no build): resolves when it exits, or kills it after `deadlineMs`. */
function startApp(env: NodeJS.ProcessEnv, deadlineMs = 150_000): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/app/main.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let [stdout, stderr] = ['', ''];
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs at most `limit` at once: each start costs seconds of CPU. */
async function bounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }));
  return out;
}

const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

describe('start-up failures print one clear line on stderr and exit 1', () => {
  let db: TestDatabase;
  let busy: Server;
  let busyPort: number;
  beforeAll(async () => {
    db = await createTestDatabase();
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    busyPort = (busy.address() as { port: number }).port;
  });
  afterAll(async () => {
    busy?.close();
    await db?.drop();
  });

  // One set of keys for every start: the database keeps the fingerprint of the first one's index key.
  const keys = { OTP_KEYS: testKeyLine(), OTP_ENCRYPTION_KEYS: testKeyLine('e1') };
  const base = () => ({ DATABASE_URL: db.url, ...keys, LOG_LEVEL: 'info' });

  it('port in use, PORT=abc, DATABASE_URL=not-a-url, malformed OTP_KEYS, TRUST_PROXY=0.0.0.0/0, LOG_FLUSH_MS=soon, production with settings missing: on both adapters', async () => {
    const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
      ['port in use (express)', { HTTP_ADAPTER: 'express', PORT: String(busyPort) }, new RegExp(`port ${busyPort} on 127\\.0\\.0\\.1 is in use .*set PORT`)],
      ['port in use (fastify)', { HTTP_ADAPTER: 'fastify', PORT: String(busyPort) }, new RegExp(`port ${busyPort} on 127\\.0\\.0\\.1 is in use .*set PORT`)],
      ['PORT=abc (express)', { HTTP_ADAPTER: 'express', PORT: 'abc' }, /PORT must be a number from 0 to 65535 \(got "abc"\)/],
      ['DATABASE_URL=not-a-url (fastify)', { HTTP_ADAPTER: 'fastify', DATABASE_URL: 'not-a-url' }, /DATABASE_URL is not a URL: expected postgres:\/\//],
      ['malformed OTP_KEYS (express)', { HTTP_ADAPTER: 'express', OTP_KEYS: 'k1:not base64!' }, /OTP_KEYS: key "k1" is not base64/],
      ['TRUST_PROXY=0.0.0.0/0 (fastify)', { HTTP_ADAPTER: 'fastify', TRUST_PROXY: '0.0.0.0/0' }, /TRUST_PROXY entry "0\.0\.0\.0\/0" trusts every address/],
      ['LOG_FLUSH_MS=soon (express)', { HTTP_ADAPTER: 'express', LOG_FLUSH_MS: 'soon' }, /LOG_FLUSH_MS must be an integer from 0 \(write every line at once\) to 10000 milliseconds \(got "soon"\)/],
      ['production, nothing set (fastify)', { HTTP_ADAPTER: 'fastify', NODE_ENV: 'production', OTP_KEYS: '', OTP_ENCRYPTION_KEYS: '' },
        /refusing to serve plain HTTP in production.*; required in production and not set: OTP_KEYS, OTP_ENCRYPTION_KEYS, OTP_INDEX_KEY, SMTP_URL, MAIL_FROM, APP_URL/],
    ];
    const exits = await bounded(cases, 3, ([, env]) => startApp({ ...base(), ...env }));
    cases.forEach(([name, , message], i) => {
      const { code, stderr } = exits[i];
      expect({ name, code, lines: lines(stderr).length, stack: /\n\s+at /.test(stderr) }).toEqual({ name, code: 1, lines: 1, stack: false });
      expect([name, stderr]).toEqual([name, expect.stringMatching(new RegExp(`^start-up failed: .*${message.source}`))]);
    });
  }, 400_000);

  it('the log lines buffered when the start fails are all on stdout (LOG_FLUSH_MS=10000), up to the error the line on stderr explains', async () => {
    const { code, stdout, stderr } = await startApp({ ...base(), HTTP_ADAPTER: 'express', PORT: String(busyPort), LOG_FLUSH_MS: '10000' });
    expect([code, lines(stderr)]).toEqual([1, [expect.stringMatching(/^start-up failed: port \d+ on 127\.0\.0\.1 is in use/)]]);
    const logged = lines(stdout).map((l) => JSON.parse(l) as { msg: string });
    expect(logged.some((l) => l.msg === 'Nest application successfully started')).toBe(true);
    expect(logged.at(-1)?.msg).toMatch(/EADDRINUSE/);
  }, 200_000);

  it('with LOG_LEVEL=debug the stack follows the line', async () => {
    const { code, stderr } = await startApp({ ...base(), HTTP_ADAPTER: 'express', PORT: String(busyPort), LOG_LEVEL: 'debug' });
    expect(code).toBe(1);
    expect(lines(stderr)[0]).toMatch(/^start-up failed: port \d+ on 127\.0\.0\.1 is in use/);
    expect(stderr).toMatch(/\n\s+at /);
  }, 200_000);
});
