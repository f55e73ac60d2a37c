import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

export async function startSmtpSink(): Promise<SmtpSink> {
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
    onData(stream: NodeJS.ReadableStream, _session: unknown, callback: (err?: Error) => void) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        received.push(Date.now());
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

/** An OTP-sized message: what the module sends, give or take the template. */
function message(i: number): Record<string, unknown> {
  return {
    from: 'Example sign-in <otp@bench.example.com>',
    to: `user${i}@bench.example.com`,
    subject: 'Your Example sign-in code',
    text: `Your code is ${String(i % 1_000_000).padStart(6, '0')}. It expires in 10 minutes.\n` + 'x'.repeat(600),
    html: `<p>Your code is <b>${String(i % 1_000_000).padStart(6, '0')}</b>.</p>` + '<p>' + 'x'.repeat(600) + '</p>',
  };
}

/**
 * The mail "limit": plain pooled nodemailer (STARTTLS required, certificate checked)
 * sending for `seconds` to the sink, 50 messages in flight. Messages/s at the sink.
 */
export async function plainNodemailerRate(sink: SmtpSink, seconds: number): Promise<number> {
  const nodemailer = require('nodemailer');
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: 5,
    host: '127.0.0.1',
    port: sink.port,
    secure: false,
    requireTLS: true,
    tls: { ca: readFileSync(sink.caFile), servername: 'localhost', minVersion: 'TLSv1.2' },
  });
  const before = sink.received.length;
  const start = Date.now();
  const until = start + seconds * 1000;
  let i = 0;
  const worker = async (): Promise<void> => {
    while (Date.now() < until) await transport.sendMail(message(i++));
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  const elapsed = (Date.now() - start) / 1000;
  transport.close();
  return (sink.received.length - before) / elapsed;
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
