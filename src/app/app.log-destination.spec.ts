import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AppLogDestination, flushAppLogs, LOG_FLUSH_MS_DEFAULT, logFlushMs } from './app.log-destination';

/** Polls `probe` every 5 ms until it gives a value or `deadlineMs` has passed. */
async function poll<T>(probe: () => T | undefined, deadlineMs: number): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`condition not met within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('the example app log destination (LOG_FLUSH_MS)', () => {
  let dir: string;
  let file: string;
  let fd: number;
  const opened: AppLogDestination[] = [];
  const destination = (flushMs: number) => {
    const d = new AppLogDestination(flushMs, fd);
    opened.push(d);
    return d;
  };
  const lines = () => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');

  beforeEach(() => {
    dir = fs.mkdtempSync(join(tmpdir(), 'app-log-'));
    file = join(dir, 'out.log');
    fd = fs.openSync(file, 'a');
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((d) => d.close()));
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  it('holds a line of a quiet process, then writes it within LOG_FLUSH_MS', async () => {
    const flushMs = 250;
    const logger = pino({}, destination(flushMs));
    const loggedAt = Date.now();
    logger.info('alone');
    expect(lines()).toEqual([]);
    const writtenAt = await poll(() => (lines().length > 0 ? Date.now() : undefined), 5_000);
    expect(JSON.parse(lines()[0]).msg).toBe('alone');
    // The timer's period, plus what a loaded 2-core machine may add to a timer.
    expect(writtenAt - loggedAt).toBeLessThan(flushMs + 500);
  });

  it('N lines then a close: all N written, in order, each valid JSON, in a few writes of 4 kB', async () => {
    // Batches go out asynchronously (fs.write), what is left at the close synchronously (fs.writeSync).
    const writes = [jest.spyOn(fs, 'write'), jest.spyOn(fs, 'writeSync')];
    const d = destination(10_000);
    const logger = pino({}, d);
    const n = 1_000;
    for (let i = 0; i < n; i++) logger.info({ i, pad: 'x'.repeat(60) }, 'line');
    await d.close();
    const written = lines().map((l) => JSON.parse(l) as { i: number });
    expect(written.map((l) => l.i)).toEqual(Array.from({ length: n }, (_, i) => i));
    const bytes = fs.statSync(file).size;
    const dataWrites = writes.flatMap((w) => w.mock.calls as unknown[][]).filter(([target]) => target === fd).length;
    expect(dataWrites).toBeLessThanOrEqual(Math.ceil(bytes / 4096) + 1);
    expect(dataWrites).toBeGreaterThan(0);
  });

  it('LOG_FLUSH_MS=0: every line is in the file when the log call returns, one write each', () => {
    const writes = jest.spyOn(fs, 'writeSync');
    const logger = pino({}, destination(logFlushMs({ LOG_FLUSH_MS: '0' })));
    for (let i = 0; i < 5; i++) {
      logger.info({ i }, 'line');
      expect(lines().map((l) => JSON.parse(l).i)).toEqual(Array.from({ length: i + 1 }, (_, k) => k));
    }
    expect(writes.mock.calls.filter(([target]) => target === fd)).toHaveLength(5);
  });

  it('after the close (the app shutting down), later lines are written at once', async () => {
    const d = destination(10_000);
    const logger = pino({}, d);
    logger.info('before');
    expect(lines()).toEqual([]);
    await d.close();
    logger.info('after');
    expect(lines().map((l) => JSON.parse(l).msg)).toEqual(['before', 'after']);
  });

  it('a flush asked for while a batch is being written is not lost: the line shows without waiting for the next tick', async () => {
    const d = destination(10_000);
    const logger = pino({}, d);
    // More than 4 kB: a batch goes out asynchronously, and is in flight when the next flush is asked for.
    for (let i = 0; i < 60; i++) logger.info({ i, pad: 'x'.repeat(80) }, 'batch');
    logger.info('the address');
    d.flush();
    const last = await poll(() => lines().map((l) => JSON.parse(l).msg as string).find((m) => m === 'the address'), 5_000);
    expect(last).toBe('the address');
    expect(lines()).toHaveLength(61);
  });

  it('after a synchronous flush (the start-up text, a failed start) the timer writes nothing more until a line comes', async () => {
    const d = destination(20);
    const logger = pino({}, d);
    logger.info('started');
    flushAppLogs();
    expect(lines()).toHaveLength(1);
    const writes = jest.spyOn(fs, 'write');
    // Ten ticks of the timer with nothing logged: no writes (an empty write each tick, or a loop of them, would show).
    const until = Date.now() + 250;
    await poll(() => (Date.now() > until ? true : undefined), 5_000);
    expect(writes.mock.calls.filter(([target]) => target === fd).length).toBeLessThanOrEqual(1);
    logger.info('later');
    await poll(() => (lines().length === 2 ? true : undefined), 5_000);
    expect(lines().map((l) => JSON.parse(l).msg)).toEqual(['started', 'later']);
  });

  it('flushAppLogs writes out what every open destination holds (the failed start, before its line on stderr)', () => {
    const [a, b] = [pino({}, destination(10_000)), pino({}, destination(10_000))];
    a.info('from a');
    b.info('from b');
    expect(lines()).toEqual([]);
    flushAppLogs();
    expect(lines().map((l) => JSON.parse(l).msg)).toEqual(['from a', 'from b']);
  });

  it('reads LOG_FLUSH_MS: 100 by default, 0 to 10000, and refuses anything else with one clear line', () => {
    expect([logFlushMs({}), logFlushMs({ LOG_FLUSH_MS: '' }), LOG_FLUSH_MS_DEFAULT]).toEqual([100, 100, 100]);
    expect([logFlushMs({ LOG_FLUSH_MS: '0' }), logFlushMs({ LOG_FLUSH_MS: ' 250 ' }), logFlushMs({ LOG_FLUSH_MS: '10000' })]).toEqual([0, 250, 10_000]);
    for (const bad of ['abc', '-1', '1.5', '10001', '1e3', '0x10', '100ms']) {
      expect(() => logFlushMs({ LOG_FLUSH_MS: bad })).toThrow(
        `LOG_FLUSH_MS must be an integer from 0 (write every line at once) to 10000 milliseconds (got "${bad}")`,
      );
    }
  });
});
