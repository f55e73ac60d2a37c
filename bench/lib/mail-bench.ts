import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_APP_URL, BENCH_MAIL_FROM } from './bench-env';
import { cpuMs, startChild } from './child';
import { databaseCpuMs } from './bench-db';
import type { Pool } from 'pg';
import { median } from './load';
import type { BenchReport } from './report';

type BenchMailFigures = BenchReport['mail'];

/* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any */

/** A local SMTP sink with STARTTLS (self-signed certificate made at run time) that counts what it receives. */
export interface SmtpSink {
  port: number;
  caFile: string;
  received: number[];
  close(): Promise<void>;
}

export function mailModulesAvailable(): string | null {
  for (const m of ['smtp-server', 'nodemailer']) {
    try {
      require.resolve(m);
    } catch {
      return m;
    }
  }
  return null;
}

/** `onMessage`: also hand each message (envelope recipient, raw bytes) to the caller (the soak reads codes from them). */
export async function startSmtpSink(opts: { onMessage?: (rcpt: string, raw: Buffer) => void } = {}): Promise<SmtpSink> {
  const { SMTPServer } = require('smtp-server');
  const dir = mkdtempSync(join(tmpdir(), 'otp-bench-smtp-'));
  const keyFile = join(dir, 'key.pem');
  const caFile = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', caFile, '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const received: number[] = [];
  const server = new SMTPServer({
    key: readFileSync(keyFile),
    cert: readFileSync(caFile),
    authOptional: true,
    logger: false,
    size: 1024 * 1024,
    onData(stream: NodeJS.ReadableStream, session: { envelope: { rcptTo: { address: string }[] } }, callback: (err?: Error) => void) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => opts.onMessage && chunks.push(c));
      stream.on('end', () => {
        received.push(Date.now());
        opts.onMessage?.(session.envelope.rcptTo[0]?.address ?? '', Buffer.concat(chunks));
        callback();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.server.address().port,
    caFile,
    received,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The mail "limit" (plain pooled nodemailer in its own process, see mail-baseline.ts): messages/s at the sink and its CPU per message. */
async function plainNodemailerRate(sink: SmtpSink, seconds: number, connections: string): Promise<{ rps: number; cpuUsPerMessage: number }> {
  const client = await startChild<unknown>('mail-baseline', {
    PATH: process.env.PATH, MAIL_FROM: BENCH_MAIL_FROM, APP_URL: BENCH_APP_URL, BASELINE_SMTP_CONNECTIONS: connections,
  });
  try {
    const before = sink.received.length;
    const cpu0 = cpuMs(client.proc.pid!);
    const start = Date.now();
    await client.request({ cmd: 'send', port: sink.port, caFile: sink.caFile, seconds }, 'sent');
    const elapsed = (Date.now() - start) / 1000;
    const n = sink.received.length - before;
    return { rps: n / elapsed, cpuUsPerMessage: ((cpuMs(client.proc.pid!) - cpu0) * 1000) / Math.max(1, n) };
  } finally {
    await client.stop();
  }
}

/** Arrival rate at the sink between the 10th and 90th percentile of `expected` messages after `since`. */
export async function sinkArrivalRate(sink: SmtpSink, from: number, expected: number, deadlineMs: number): Promise<number | null> {
  const until = Date.now() + deadlineMs;
  while (sink.received.length - from < expected && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  const got = sink.received.slice(from);
  if (got.length < expected * 0.5) return null;
  const lo = got[Math.floor(got.length * 0.1)];
  const hi = got[Math.floor(got.length * 0.9) - 1];
  const n = Math.floor(got.length * 0.9) - Math.floor(got.length * 0.1) - 1;
  return hi > lo ? n / ((hi - lo) / 1000) : null;
}

/** Variables of the dispatching instance that the mail part passes on from its own environment. */
export const DISPATCHER_SETTINGS = ['MAIL_BATCH_SIZE', 'MAIL_MAX_IN_FLIGHT', 'MAIL_RECORD_DELAY_MS', 'MAIL_SMTP_CONNECTIONS'];

/** An app child of the harness, as far as the mail part needs it. */
interface MailBenchApp {
  proc: { pid?: number };
  request<T>(message: Record<string, unknown>, replyType: string, timeoutMs?: number): Promise<T>;
}

export interface MailBenchOptions<App extends MailBenchApp> {
  /** The bench database: its server processes' CPU is counted for the outbox too. */
  pool: Pool;
  runs: number;
  seconds: number;
  hasOutbox: boolean;
  /** Boots the example app with these extra variables (the real mail port, production settings). */
  bootApp(extra: NodeJS.ProcessEnv): Promise<App>;
  stopApp(app: App): Promise<void>;
  log(line: string): void;
  skipped: string[];
}

/**
 * Mail throughput: plain pooled nodemailer to a local sink against the outbox to the same sink,
 * measured back to back in each round so that both see the same neighbours. Pure dispatch: an
 * instance with `MAIL_DISPATCHER=false` writes the backlog, then an instance with a dispatcher
 * drains it (its start-up is outside the 10th-90th percentile window that is timed).
 */
export async function measureMail<App extends MailBenchApp>(o: MailBenchOptions<App>): Promise<BenchMailFigures> {
  const figures: BenchMailFigures = { rps: null, limitRps: null, ratio: null, runs: [] };
  const missing = mailModulesAvailable();
  if (missing) {
    o.skipped.push(`mail: ${missing} is not installed in this build`);
    return figures;
  }
  if (!o.hasOutbox) o.skipped.push('mail outbox: no outbox table in this build (plain nodemailer limit measured only)');
  const settings = DISPATCHER_SETTINGS.filter((n) => process.env[n]).map((n) => `${n}=${process.env[n]}`).join(' ');
  o.log(`mail: plain pooled nodemailer${o.hasOutbox ? ' and the outbox' : ''} -> local SMTP sink, ${o.runs} round(s)${settings ? `; ${settings}` : ''}`);
  const sink = await startSmtpSink();
  const env: NodeJS.ProcessEnv = { SMTP_URL: `smtp://127.0.0.1:${sink.port}`, SMTP_CA_FILE: sink.caFile };
  // Dispatcher settings to try, passed on when set (README, "Mail delivery").
  for (const name of DISPATCHER_SETTINGS) if (process.env[name]) env[name] = process.env[name];
  // Like with like: nodemailer and the dispatcher over as many connections (5, as in the earlier
  // rounds, unless MAIL_SMTP_CONNECTIONS says otherwise; the app's own default is 20).
  env.MAIL_SMTP_CONNECTIONS = process.env.MAIL_SMTP_CONNECTIONS ?? '5';
  const writer = o.hasOutbox ? await o.bootApp({ ...env, MAIL_DISPATCHER: 'false' }) : undefined;
  try {
    for (let r = 0; r < o.runs; r++) {
      const limit = await plainNodemailerRate(sink, o.seconds, env.MAIL_SMTP_CONNECTIONS);
      const run: NonNullable<BenchMailFigures['runs']>[number] = { rps: null, limitRps: limit.rps, ratio: null, limitCpuUsPerMessage: limit.cpuUsPerMessage };
      if (writer) {
        const n = Math.max(500, Math.ceil(limit.rps * o.seconds));
        await writer.request({ cmd: 'issue', n, tag: `mail${r}-${Date.now()}` }, 'issued');
        const from = sink.received.length;
        const dispatcher = await o.bootApp(env);
        // CPU of the dispatching instance from when it is up (its boot excluded) to the last message,
        // and of the PostgreSQL processes serving the bench database meanwhile.
        const cpu0 = cpuMs(dispatcher.proc.pid!);
        const db0 = await databaseCpuMs(o.pool);
        const counted = sink.received.length;
        run.rps = await sinkArrivalRate(sink, from, n, o.seconds * 6000);
        const sent = Math.max(1, sink.received.length - counted);
        run.cpuUsPerMessage = ((cpuMs(dispatcher.proc.pid!) - cpu0) * 1000) / sent;
        const db1 = await databaseCpuMs(o.pool);
        run.dbCpuUsPerMessage = ([...db1].reduce((sum, [pid, ms]) => sum + ms - (db0.get(pid) ?? 0), 0) * 1000) / sent;
        await o.stopApp(dispatcher);
        run.ratio = run.rps === null ? null : run.rps / limit.rps;
      }
      figures.runs!.push(run);
      const f0 = (x: number | null | undefined) => (x === null || x === undefined ? '-' : x.toFixed(0));
      o.log(`  round ${r + 1}: nodemailer ${f0(run.limitRps)} msg/s (${f0(run.limitCpuUsPerMessage)} µs CPU/msg)`
        + (writer ? `, outbox ${f0(run.rps)} msg/s (${f0(run.cpuUsPerMessage)} µs CPU/msg + database ${f0(run.dbCpuUsPerMessage)}), ratio ${run.ratio === null ? '-' : run.ratio.toFixed(2)}` : ''));
    }
  } finally {
    if (writer) await o.stopApp(writer);
    await sink.close();
  }
  const rates = figures.runs!.map((x) => x.rps).filter((x): x is number => x !== null);
  figures.limitRps = median(figures.runs!.map((x) => x.limitRps));
  figures.rps = rates.length ? median(rates) : null;
  // Each round's pair was measured back to back: the median of their ratios follows the machine's
  // drift less than the ratio of the two medians does.
  const ratios = figures.runs!.map((x) => x.ratio).filter((x): x is number => x !== null);
  figures.ratio = ratios.length ? median(ratios) : null;
  const cpu = figures.runs!.map((x) => x.cpuUsPerMessage).filter((x): x is number => x !== undefined);
  const dbCpu = figures.runs!.map((x) => x.dbCpuUsPerMessage).filter((x): x is number => x !== undefined);
  figures.cpuUsPerMessage = {
    outbox: cpu.length ? median(cpu) : null, outboxDatabase: dbCpu.length ? median(dbCpu) : null,
    nodemailer: median(figures.runs!.map((x) => x.limitCpuUsPerMessage!)),
  };
  if (writer && figures.rps === null) o.skipped.push('mail: the outbox delivered under half the messages in time (check the SMTP variables in bench/lib/mail-bench.ts)');
  return figures;
}
