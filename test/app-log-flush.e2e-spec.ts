import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { HTTP_ADAPTERS, pollFor, testKeyLine } from './support/test-app';

const root = join(__dirname, '..');

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A node child (ts-node, no build), killed after `deadlineMs` if it has not ended by then. */
function run(args: string[], env: NodeJS.ProcessEnv, deadlineMs = 120_000): Run {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let [out, err] = ['', ''];
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

const jsonLines = (text: string) => text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);

// LOG_FLUSH_MS=10000: no child lives that long, so the timer never writes a line; only a batch of
// 4 kB or the exit paths under test can.
describe('the example app log lines survive the ways a process ends (LOG_FLUSH_MS)', () => {
  const ending = async (name: string, lines: number) => {
    const r = run(['test/support/log-flush-child.ts', name, String(lines)], { LOG_FLUSH_MS: '10000' });
    return { ...(await r.exited), lines: jsonLines(r.stdout()), stderr: r.stderr() };
  };

  it('process.exit() right after logging: every line written, in order, each valid JSON', async () => {
    const { code, lines } = await ending('exit', 2_000);
    expect(code).toBe(0);
    expect(lines.map((l) => l.i)).toEqual(upTo(2_000));
  });

  it('an uncaught exception and an unhandled rejection: every line written, and Node reports the error', async () => {
    const [thrown, rejected] = await Promise.all([ending('throw', 50), ending('reject', 50)]);
    expect([thrown.code, thrown.lines.map((l) => l.i)]).toEqual([1, upTo(50)]);
    expect(thrown.stderr).toContain('thrown after logging');
    expect([rejected.code, rejected.lines.map((l) => l.i)]).toEqual([1, upTo(50)]);
    expect(rejected.stderr).toContain('rejected after logging');
  });

  it('the event loop running dry ends the process (the timer holds nothing), every line written', async () => {
    const { code, lines } = await ending('drain', 30);
    expect([code, lines.map((l) => l.i)]).toEqual([0, upTo(30)]);
  });

  it("the app's close, a line logged after it, then SIGTERM re-raised (Nest's shutdown): every line written", async () => {
    const { signal, lines } = await ending('close-then-sigterm', 30);
    expect([signal, lines.map((l) => l.i)]).toEqual(['SIGTERM', upTo(31)]);
  });

  it('a reader that stops reading stdout (a stalled log shipper) does not stall the event loop: lines wait, requests do not', async () => {
    const r = run(['test/support/log-flush-child.ts', 'stalled-reader', '0'], { LOG_FLUSH_MS: '100' });
    r.child.stdout!.pause();
    // About 2.5 MB of lines while nobody reads: far more than a pipe holds (64 kB).
    const said = await pollFor(() => /ticks (\d+) in (\d+) ms/.exec(r.stderr()) ?? undefined, 20_000);
    r.child.stdout!.resume();
    const { code } = await r.exited;
    expect(code).toBe(0);
    // A synchronous destination sleeps 100 ms on the event loop per EAGAIN and would not reach this
    // timer until the pipe is read again; a non-blocking one runs its second of 2 ms ticks on time.
    expect(Number(said[2])).toBeLessThan(3_000);
    expect(Number(said[1])).toBeGreaterThan(50);
  });

  it('a hard kill (SIGKILL) loses the lines still buffered: the trade-off docs/performance.md names', async () => {
    const { signal, lines } = await ending('sigkill', 30);
    expect([signal, lines]).toEqual(['SIGKILL', []]);
  });
});

describe.each(HTTP_ADAPTERS)('npm start (%s): SIGTERM writes out the buffered log lines before the process ends', (adapter) => {
  let db: TestDatabase;
  let app: Run | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    if (app?.child.exitCode === null && app.child.signalCode === null) {
      app.child.kill('SIGKILL');
      await app.exited;
    }
    await db?.drop();
  });

  it('the access line of the last request is on stdout after SIGTERM, with LOG_FLUSH_MS=10000', async () => {
    app = run(['src/app/main.ts'], {
      DATABASE_URL: db.url, OTP_KEYS: testKeyLine(), OTP_ENCRYPTION_KEYS: testKeyLine('e1'), PORT: '0', HTTP_ADAPTER: adapter, LOG_LEVEL: 'info', LOG_FLUSH_MS: '10000',
    });
    // The start-up text is flushed as it is written: the address shows at once, not after LOG_FLUSH_MS.
    const url = await pollFor(() => /^open (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(app!.stdout())?.[1], 100_000);
    const res = await fetch(url, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    await res.text();
    const before = app.stdout();
    app.child.kill('SIGTERM');
    const { signal } = await app.exited;
    expect(signal).toBe('SIGTERM');
    const after = app.stdout().slice(before.length);
    const access = jsonLines(after).filter((l) => l.msg === 'request completed');
    expect(access.map((l) => [(l.req as { url: string }).url, (l.res as { statusCode: number }).statusCode])).toEqual([['/', 200]]);
  }, 150_000);
});
