import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { otpPackageRoot } from '../package-root';
import { OtpConfigError } from '../otp.errors';
import { OtpMailOptions, ResolvedOtpMailOptions } from './otp-mail-options.interface';

export const MIN_DKIM_RSA_BITS = 2048;
const DEV_FROM = '"nestjs-email-otp (development)" <no-reply@localhost>';
const DEV_APP_URL = 'http://127.0.0.1:3000';

/** `"Name" <a@b>`, `Name <a@b>` or `a@b`. */
export function parseFrom(from: string): { name?: string; address: string } {
  const m = /^\s*(?:"?([^"<]*?)"?\s*)?<([^<>\s]+@[^<>\s]+)>\s*$/.exec(from) ?? /^\s*()([^<>\s"]+@[^<>\s"]+)\s*$/.exec(from);
  if (!m || /[\r\n]/.test(from)) throw new OtpConfigError('MAIL_FROM must be an address or "Name <address>"');
  return { name: m[1] ? m[1].trim() : undefined, address: m[2] };
}

/** The package's own `templates/` (relative to the compiled module, never the working directory). */
function defaultTemplatesDir(): string {
  return join(otpPackageRoot(), 'templates');
}

function positive(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new OtpConfigError(`mail.${name} must be an integer from ${min} to ${max}`);
  return v;
}

/**
 * Applies defaults and refuses insecure mail settings at start-up: no SMTP in
 * production, plain SMTP in production, a DKIM key under 2048 bits, a non-https
 * app URL in production.
 */
export function resolveOtpMailOptions(options: OtpMailOptions = {}, production: boolean): ResolvedOtpMailOptions {
  if (production && !options.smtpUrl) {
    throw new OtpConfigError('SMTP_URL is required in production (smtps://host:465 or smtp://host:587 with STARTTLS); the development mailbox is off in production');
  }
  if (production && (!options.from || !options.appUrl)) {
    throw new OtpConfigError('MAIL_FROM and APP_URL are required in production');
  }
  let smtp: ResolvedOtpMailOptions['smtp'];
  if (options.smtpUrl) {
    let url: URL;
    try {
      url = new URL(options.smtpUrl);
    } catch {
      throw new OtpConfigError('SMTP_URL is not a URL (smtp://host:587 or smtps://host:465)');
    }
    if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new OtpConfigError('SMTP_URL must start with smtp:// or smtps://');
    const plain = url.protocol === 'smtp:' && options.allowPlainSmtpInDevelopment === true;
    if (plain && production) throw new OtpConfigError('plain SMTP (SMTP_ALLOW_PLAIN_DEV) is refused in production');
    smtp = {
      url,
      implicitTls: url.protocol === 'smtps:',
      plain,
      ca: options.caFile ? readFileSync(options.caFile, 'utf8') : undefined,
    };
  }
  const from = options.from ?? DEV_FROM;
  const parsedFrom = parseFrom(from);
  let appUrl: URL;
  try {
    appUrl = new URL(options.appUrl ?? DEV_APP_URL);
  } catch {
    throw new OtpConfigError('APP_URL is not a URL');
  }
  if (production && appUrl.protocol !== 'https:') throw new OtpConfigError('APP_URL must be https in production');
  const templatesDir = options.templatesDir ?? defaultTemplatesDir();
  const leaseSeconds = positive('leaseSeconds', options.leaseSeconds, 120, 60, 3600);
  return {
    smtp,
    from,
    fromDomain: parsedFrom.address.split('@')[1],
    appUrl,
    serviceName: options.serviceName ?? parsedFrom.name ?? appUrl.host,
    dkim: options.dkim ? resolveDkim(options.dkim) : undefined,
    templatesDir,
    defaultLocale: options.defaultLocale ?? 'en',
    templateByPurpose: options.templateByPurpose ?? {
      login: 'login',
      'verify-email': 'verify-email',
      transfer: 'transaction',
      'step-up': 'transaction',
    },
    dispatcher: options.dispatcher ?? true,
    pollIntervalMs: positive('pollIntervalMs', options.pollIntervalMs, 500, 10, 60_000),
    batchSize: positive('batchSize', options.batchSize, 25, 1, 500),
    maxInFlight: positive('maxInFlight', options.maxInFlight, 50, 1, 1000),
    recordDelayMs: positive('recordDelayMs', options.recordDelayMs, 0, 0, 1000),
    recordRetryMs: positive('recordRetryMs', options.recordRetryMs, (leaseSeconds * 1000) / 2, 0, (leaseSeconds * 1000) / 2),
    smtpConnections: positive('smtpConnections', options.smtpConnections, 5, 1, 100),
    leaseSeconds,
    retry: {
      baseMs: positive('retry.baseMs', options.retry?.baseMs, 1000, 10, 600_000),
      maxMs: positive('retry.maxMs', options.retry?.maxMs, 60_000, 10, 3_600_000),
    },
    noticeIntervalSeconds: positive('noticeIntervalSeconds', options.noticeIntervalSeconds, 86_400, 60, 30 * 86_400),
  };
}

function resolveDkim(d: NonNullable<OtpMailOptions['dkim']>): ResolvedOtpMailOptions['dkim'] {
  const pem = d.privateKey ?? (d.privateKeyFile ? readFileSync(d.privateKeyFile, 'utf8') : undefined);
  if (!d.domainName || !d.keySelector || !pem) {
    throw new OtpConfigError('DKIM needs DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE together');
  }
  let key;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new OtpConfigError('DKIM private key is not a readable PEM key');
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== 'rsa' || bits < MIN_DKIM_RSA_BITS) {
    throw new OtpConfigError(`DKIM key must be RSA of at least ${MIN_DKIM_RSA_BITS} bits (got ${key.asymmetricKeyType} ${bits})`);
  }
  return { domainName: d.domainName, keySelector: d.keySelector, privateKey: pem };
}
