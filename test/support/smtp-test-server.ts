import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, SMTPServerOptions } from 'smtp-server';

/** A self-signed certificate for 127.0.0.1, made at test time with openssl (never committed). */
export interface TestCert {
  dir: string;
  keyFile: string;
  certFile: string;
  key: string;
  cert: string;
  remove(): void;
}

export function makeTestCert(cn = '127.0.0.1'): TestCert {
  const dir = mkdtempSync(join(tmpdir(), 'otp-mail-cert-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', `/CN=${cn}`,
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  return {
    dir, keyFile, certFile,
    key: readFileSync(keyFile, 'utf8'),
    cert: readFileSync(certFile, 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A DKIM key pair and the TXT record that publishes it. */
export function makeDkimKey(bits = 2048, dir?: string): { privateKey: string; file?: string; txt: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const der = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  let file: string | undefined;
  if (dir) {
    file = join(dir, `dkim-${bits}.pem`);
    writeFileSync(file, pem, { mode: 0o600 });
  }
  return { privateKey: pem, file, txt: `v=DKIM1; k=rsa; p=${der}` };
}

export interface ReceivedMail {
  raw: Buffer;
  parsed: ParsedMail;
  /** The session was encrypted when DATA was sent. */
  secure: boolean;
}

/** What the server saw: every command that could carry mail, and each message. */
export interface TestSmtpServer {
  port: number;
  url(scheme?: 'smtp' | 'smtps'): string;
  messages: ReceivedMail[];
  /** MAIL FROM commands seen, secure or not. */
  mailFromCount: number;
  /** DATA commands seen (a message reached the server). */
  dataCount: number;
  connections: number;
  close(): Promise<void>;
  /** Listens again on the same port after `close()`. */
  reopen(): Promise<void>;
}

/** Test behaviour of the server beyond smtp-server's options. */
export interface SmtpTestHooks {
  /**
   * Runs before the server answers MAIL FROM, RCPT TO and the end of a message's DATA (a slow
   * relay: each answer can stay under the client's idle timeout while the transaction takes longer).
   */
  beforeAnswer?: (command: 'MAIL' | 'RCPT' | 'DATA') => Promise<void>;
}

/** An SMTP server on 127.0.0.1 that records what reaches it (plus any smtp-server options). */
export async function startSmtpServer(options: SMTPServerOptions = {}, port = 0, hooks: SmtpTestHooks = {}): Promise<TestSmtpServer> {
  const state = { messages: [] as ReceivedMail[], mailFromCount: 0, dataCount: 0, connections: 0 };
  let server: SMTPServer;
  const make = () =>
    new SMTPServer({
      authOptional: true,
      disableReverseLookup: true,
      logger: false,
      closeTimeout: 200,
      ...options,
      onConnect(_session, cb) {
        state.connections++;
        cb();
      },
      onMailFrom(_address, _session, cb) {
        state.mailFromCount++;
        if (hooks.beforeAnswer) hooks.beforeAnswer('MAIL').then(() => cb(), cb);
        else cb();
      },
      ...(hooks.beforeAnswer
        ? { onRcptTo: (_address: unknown, _session: unknown, cb: (err?: Error | null) => void) => void hooks.beforeAnswer!('RCPT').then(() => cb(), cb) }
        : {}),
      onData(stream, session, cb) {
        const n = ++state.dataCount;
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          simpleParser(raw)
            .then(async (parsed) => {
              await hooks.beforeAnswer?.('DATA');
              state.messages.push({ raw, parsed, secure: session.secure });
              cb(null, `Ok: queued as T${n}`);
            })
            .catch(cb);
        });
      },
    });
  const listen = (p: number) =>
    new Promise<number>((resolve, reject) => {
      server = make();
      server.on('error', () => undefined);
      const onError = (err: Error) => reject(err);
      server.server.once('error', onError);
      server.listen(p, '127.0.0.1', () => {
        server.server.off('error', onError);
        resolve((server.server.address() as AddressInfo).port);
      });
    });
  const actualPort = await listen(port);
  const api: TestSmtpServer = {
    port: actualPort,
    url: (scheme = 'smtp') => `${scheme}://127.0.0.1:${actualPort}`,
    get messages() {
      return state.messages;
    },
    get mailFromCount() {
      return state.mailFromCount;
    },
    get dataCount() {
      return state.dataCount;
    },
    get connections() {
      return state.connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    reopen: async () => {
      await listen(actualPort);
    },
  } as TestSmtpServer;
  return api;
}
