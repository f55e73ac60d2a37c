import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { OtpConfigError } from '../core/otp.errors';
import { OtpMailOutboxOptions, resolveOtpMailOutboxOptions, ResolvedOtpMailOutboxOptions } from './outbox/outbox-options';
import { defaultTemplatesDir } from './templates/default-templates-dir';

/** DKIM signing of outgoing mail (RSA, at least 2048 bits; nodemailer signs rsa-sha256). */
export interface OtpDkimOptions {
  /** Signing domain (`d=`), normally the From domain or its parent. */
  domainName: string;
  /** Selector (`s=`): the public key lives at `<selector>._domainkey.<domainName>`. */
  keySelector: string;
  /** PEM private key. Give this or `privateKeyFile`. */
  privateKey?: string;
  /** Path of the PEM private key (`DKIM_PRIVATE_KEY_FILE`), read once at start-up. */
  privateKeyFile?: string;
}

/** Mail delivery: transport, sender and templates here; the outbox dispatcher's fields in `OtpMailOutboxOptions`. */
export interface OtpMailOptions extends OtpMailOutboxOptions {
  /**
   * SMTP relay (`SMTP_URL`). `smtp://user:pass@host:587` requires STARTTLS (the send
   * fails if the server does not offer it); `smtps://host:465` uses implicit TLS.
   * Either way TLS 1.2+ with certificate verification. Unset: the in-memory development
   * mailbox outside production; refused in production.
   * @default undefined
   */
  smtpUrl?: string;
  /**
   * Extra CA certificate(s) to trust for the relay (`SMTP_CA_FILE`, PEM), on top of the
   * system CAs. Certificate verification is never turned off.
   * @default undefined
   */
  caFile?: string;
  /**
   * Development only: allow `smtp://` without TLS (e.g. a local Mailpit). Refused in
   * production. STARTTLS is still used when the server offers it.
   * @default false
   */
  allowPlainSmtpInDevelopment?: boolean;
  /**
   * From header of every OTP mail (`MAIL_FROM`), e.g. `"Example" <no-reply@example.com>`.
   * Keep it constant: people learn what a real code mail looks like.
   * @default '"nestjs-email-otp (development)" <no-reply@localhost>' outside production; required in production
   */
  from?: string;
  /**
   * Public address of the app (`APP_URL`), printed as "enter it only at <host>". A fixed
   * value, never the request's Host header. Must be https in production.
   * @default 'http://127.0.0.1:3000' outside production; required in production
   */
  appUrl?: string;
  /**
   * Name of the service as shown in every mail.
   * @default the display name of `from`, else the host of `appUrl`
   */
  serviceName?: string;
  /**
   * DKIM signing (`DKIM_DOMAIN`, `DKIM_SELECTOR`, `DKIM_PRIVATE_KEY_FILE`).
   * @default undefined (no signature: sign at the relay instead)
   */
  dkim?: OtpDkimOptions;
  /**
   * Send through the host's own `MailerService` (a global `MailerModule.forRoot(...)` in
   * the app) instead of the module's SMTP pool. The module still renders its own
   * templates; the host's transport is used as configured, so its TLS policy (R31) is the
   * host's to set. Excludes `smtpUrl`; in production it replaces the `SMTP_URL` requirement.
   * @default false
   */
  useHostMailer?: boolean;
  /**
   * Folder of the whole template set (every `<template>.html.hbs`/`.text.hbs`,
   * `partials/` and `locales/`), e.g. a host's own copy. Resolved from the package
   * itself by default, never from the working directory.
   * @default the package's `templates/` (`defaultTemplatesDir()`)
   */
  templatesDir?: string;
  /**
   * Folder of files that replace the same files of `templatesDir` (same relative paths:
   * `locales/de.json`, `login.html.hbs`, `partials/html-layout.hbs`...); the others stay.
   * A new `locales/<lang>.json` adds a language. Checked at start-up like the set itself.
   * @default undefined
   */
  templatesOverlay?: string;
  /**
   * Languages mails exist in; a request's `locale` falls back `pt-BR` -> `pt` -> `defaultLocale`.
   * @default taken from the locale files in `templatesDir`
   */
  defaultLocale?: string;
  /**
   * Template for each purpose, fixed at start-up. Purposes not listed use `transaction`
   * when they are host purposes with `requiresContext` and `generic-code` otherwise (never
   * by whether a message carries a context). A public purpose never gets `transaction`: the
   * default entry for one falls back to `generic-code`, an explicit one is refused.
   * @default { login: 'login', 'verify-email': 'verify-email', transfer: 'transaction', 'step-up': 'transaction' }
   */
  templateByPurpose?: Record<string, 'login' | 'verify-email' | 'transaction' | 'generic-code'>;
}

/** Mail options after defaults and checks. */
export interface ResolvedOtpMailOptions extends ResolvedOtpMailOutboxOptions {
  smtp?: {
    url: URL;
    implicitTls: boolean;
    plain: boolean;
    ca?: string;
  };
  from: string;
  fromDomain: string;
  appUrl: URL;
  serviceName: string;
  dkim?: { domainName: string; keySelector: string; privateKey: string };
  useHostMailer: boolean;
  templatesDir: string;
  templatesOverlay?: string;
  defaultLocale: string;
  templateByPurpose: Record<string, 'login' | 'verify-email' | 'transaction' | 'generic-code'>;
}

export const MIN_DKIM_RSA_BITS = 2048;
const DEV_FROM = '"nestjs-email-otp (development)" <no-reply@localhost>';
const DEV_APP_URL = 'http://127.0.0.1:3000';

/** `"Name" <a@b>`, `Name <a@b>` or `a@b`. */
export function parseFrom(from: string): { name?: string; address: string } {
  const m = /^\s*(?:"?([^"<]*?)"?\s*)?<([^<>\s]+@[^<>\s]+)>\s*$/.exec(from) ?? /^\s*()([^<>\s"]+@[^<>\s"]+)\s*$/.exec(from);
  if (!m || /[\r\n]/.test(from)) throw new OtpConfigError('MAIL_FROM must be an address or "Name <address>"');
  return { name: m[1] ? m[1].trim() : undefined, address: m[2] };
}

/**
 * Applies defaults and refuses insecure mail settings at start-up: no SMTP in
 * production, plain SMTP in production, a DKIM key under 2048 bits, a non-https
 * app URL in production.
 */
export function resolveOtpMailOptions(options: OtpMailOptions = {}, production: boolean): ResolvedOtpMailOptions {
  const useHostMailer = options.useHostMailer === true;
  if (useHostMailer && options.smtpUrl) {
    throw new OtpConfigError('mail.useHostMailer and mail.smtpUrl (SMTP_URL) exclude each other: the host\'s MailerService or the module\'s own relay');
  }
  if (production && !options.smtpUrl && !useHostMailer) {
    throw new OtpConfigError('SMTP_URL is required in production (smtps://host:465 or smtp://host:587 with STARTTLS); the development mailbox is off in production');
  }
  if (production && (!options.from || !options.appUrl)) {
    throw new OtpConfigError('MAIL_FROM and APP_URL are required in production');
  }
  const smtp = options.smtpUrl ? resolveRelay(options.smtpUrl, options, production) : undefined;
  const from = options.from ?? DEV_FROM;
  const parsedFrom = parseFrom(from);
  let appUrl: URL;
  try {
    appUrl = new URL(options.appUrl ?? DEV_APP_URL);
  } catch {
    throw new OtpConfigError('APP_URL is not a URL');
  }
  if (production && appUrl.protocol !== 'https:') throw new OtpConfigError('APP_URL must be https in production');
  const templatesDir = options.templatesDir ? resolve(options.templatesDir) : defaultTemplatesDir();
  return {
    ...resolveOtpMailOutboxOptions(options),
    smtp,
    from,
    fromDomain: parsedFrom.address.split('@')[1],
    appUrl,
    serviceName: options.serviceName ?? parsedFrom.name ?? appUrl.host,
    dkim: options.dkim ? resolveDkim(options.dkim) : undefined,
    useHostMailer,
    templatesDir,
    templatesOverlay: options.templatesOverlay ? resolve(options.templatesOverlay) : undefined,
    defaultLocale: options.defaultLocale ?? 'en',
    templateByPurpose: options.templateByPurpose ?? {
      login: 'login',
      'verify-email': 'verify-email',
      transfer: 'transaction',
      'step-up': 'transaction',
    },
  };
}

/** The module's own relay: smtp:// with STARTTLS required, or smtps://; plain SMTP only outside production. */
function resolveRelay(smtpUrl: string, options: OtpMailOptions, production: boolean): ResolvedOtpMailOptions['smtp'] {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    throw new OtpConfigError('SMTP_URL is not a URL (smtp://host:587 or smtps://host:465)');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new OtpConfigError('SMTP_URL must start with smtp:// or smtps://');
  const plain = url.protocol === 'smtp:' && options.allowPlainSmtpInDevelopment === true;
  if (plain && production) throw new OtpConfigError('plain SMTP (SMTP_ALLOW_PLAIN_DEV) is refused in production');
  return {
    url,
    implicitTls: url.protocol === 'smtps:',
    plain,
    ca: options.caFile ? readFileSync(options.caFile, 'utf8') : undefined,
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
