import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { OtpConfigError } from '../core/otp.errors';
import { classifyMailError } from './outbox/mail-error.classifier';
import { resolveOtpMailOptions } from './mail-options';
import { smtpTransportOptions } from './smtp/smtp-transport.options';

const prod = { smtpUrl: 'smtps://relay.example.test', from: 'otp@example.test', appUrl: 'https://app.example.test' };

function rsaPem(bits: number): string {
  return generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

describe('mail options: fail closed at start-up', () => {
  it('R31: refuses production without SMTP_URL, with a clear message', () => {
    expect(() => resolveOtpMailOptions({ from: prod.from, appUrl: prod.appUrl }, true)).toThrow(/SMTP_URL is required in production/);
    expect(() => resolveOtpMailOptions({}, false)).not.toThrow(); // the development mailbox
  });

  it('R31: refuses plain SMTP in production; allows it only as the named development option', () => {
    expect(() => resolveOtpMailOptions({ ...prod, smtpUrl: 'smtp://mailpit:1025', allowPlainSmtpInDevelopment: true }, true)).toThrow(/refused in production/);
    expect(resolveOtpMailOptions({ smtpUrl: 'smtp://mailpit:1025', allowPlainSmtpInDevelopment: true }, false).smtp?.plain).toBe(true);
    expect(() => resolveOtpMailOptions({ ...prod, smtpUrl: 'http://relay' }, false)).toThrow(OtpConfigError);
  });

  it('R36: production needs MAIL_FROM and an https APP_URL (never the Host header)', () => {
    expect(() => resolveOtpMailOptions({ smtpUrl: prod.smtpUrl, appUrl: prod.appUrl }, true)).toThrow(/MAIL_FROM/);
    expect(() => resolveOtpMailOptions({ ...prod, appUrl: 'http://app.example.test' }, true)).toThrow(/https/);
    expect(() => resolveOtpMailOptions({ ...prod, from: 'x\r\nBcc: evil@example.test' }, false)).toThrow(/MAIL_FROM/);
  });

  it('R34: refuses a DKIM key under 2048 bits or not RSA; accepts 2048', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otp-dkim-'));
    try {
      const file = (name: string, pem: string) => {
        writeFileSync(join(dir, name), pem);
        return join(dir, name);
      };
      const dkim = (privateKeyFile: string) => resolveOtpMailOptions({ ...prod, dkim: { domainName: 'example.test', keySelector: 's1', privateKeyFile } }, true);
      expect(() => dkim(file('1024.pem', rsaPem(1024)))).toThrow(/at least 2048 bits/);
      const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      expect(() => dkim(file('ec.pem', ec))).toThrow(/RSA/);
      expect(dkim(file('2048.pem', rsaPem(2048))).dkim?.keySelector).toBe('s1');
      expect(() => resolveOtpMailOptions({ ...prod, dkim: { domainName: 'example.test', keySelector: '' } }, true)).toThrow(/together/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SMTP transport options', () => {
  it('R31: smtp:// requires STARTTLS, TLS 1.2+, certificate checks on, no debug', () => {
    const o = smtpTransportOptions(resolveOtpMailOptions({ smtpUrl: 'smtp://us%40er:p%3Ass@relay.example.test' }, false));
    expect(o).toMatchObject({ host: 'relay.example.test', port: 587, secure: false, requireTLS: true, pool: true, debug: false, logger: false });
    expect(o.tls).toMatchObject({ minVersion: 'TLSv1.2', servername: 'relay.example.test' });
    expect(o.tls).not.toHaveProperty('rejectUnauthorized');
    expect(o.tls?.secureContext).toBeDefined(); // built once from these options, shared by the pooled connections
    expect(o).not.toHaveProperty('ignoreTLS');
    expect(o).not.toHaveProperty('opportunisticTLS');
    expect(o.auth).toEqual({ user: 'us@er', pass: 'p:ss' });
  });

  it('R31: smtps:// is implicit TLS on 465; SMTP_CA_FILE adds to the system CAs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'otp-ca-'));
    try {
      writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n');
      const o = smtpTransportOptions(resolveOtpMailOptions({ smtpUrl: 'smtps://relay.example.test', caFile: join(dir, 'ca.pem') }, false));
      expect(o).toMatchObject({ port: 465, secure: true, requireTLS: false });
      expect(o.tls?.ca).toHaveLength(rootCertificates.length + 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('delivery failures and retries', () => {
  it('retries a failed delivery record for half the lease by default, never longer', () => {
    expect(resolveOtpMailOptions({}, false).recordRetryMs).toBe(60_000);
    expect(resolveOtpMailOptions({ leaseSeconds: 300 }, false).recordRetryMs).toBe(150_000);
    expect(resolveOtpMailOptions({ recordRetryMs: 0 }, false).recordRetryMs).toBe(0);
    expect(() => resolveOtpMailOptions({ recordRetryMs: 60_001 }, false)).toThrow(/recordRetryMs/);
  });


  it('classifies: a refused STARTTLS is tls (retried), 5xx is permanent, 4xx and refused connections are retried', () => {
    expect(classifyMailError(Object.assign(new Error('x'), { code: 'ETLS', responseCode: 502 }))).toEqual({ errorClass: 'tls', permanent: false });
    expect(classifyMailError(Object.assign(new Error('x'), { code: 'EENVELOPE', responseCode: 550 }))).toEqual({ errorClass: 'rejected', permanent: true });
    expect(classifyMailError(Object.assign(new Error('x'), { code: 'EENVELOPE', responseCode: 451 }))).toEqual({ errorClass: 'deferred', permanent: false });
    expect(classifyMailError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNECTION' }))).toEqual({ errorClass: 'connection', permanent: false });
    expect(classifyMailError(Object.assign(new Error('self-signed certificate'), { code: 'ESOCKET' })).errorClass).toBe('tls');
  });
});
