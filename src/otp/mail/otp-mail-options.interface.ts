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

/** Mail delivery: transport, sender, templates and the outbox dispatcher. */
export interface OtpMailOptions {
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
  /**
   * Run the outbox dispatcher in this instance. Several instances may run one each.
   * @default true
   */
  dispatcher?: boolean;
  /**
   * How often the dispatcher looks for due mail when nothing woke it (LISTEN/NOTIFY on
   * PostgreSQL and in-process wake-ups make delivery immediate in the common case).
   * @default 500
   */
  pollIntervalMs?: number;
  /**
   * Rows claimed by one statement. The next batch is claimed as soon as this many of the
   * `maxInFlight` slots are free, while the rest are still being sent.
   * @default 25
   */
  batchSize?: number;
  /**
   * Messages a dispatcher has claimed and not yet settled, at most. The transport gets
   * one per connection (`smtpConnections`, the port's `concurrency`); the rest wait in the
   * dispatcher's queue, which hides the time spent claiming and recording, and are checked
   * again (deadline, challenge, lease) when a connection frees. A message must be answered
   * within half the lease from then: keep `maxInFlight / smtpConnections` times the relay's
   * slowest answer well under the lease.
   * @default 50
   */
  maxInFlight?: number;
  /**
   * Deliveries are recorded in groups: what finishes during a write goes with the next
   * one. With a delay, a delivery also waits up to this long for messages still with the
   * transport: fewer, larger statements (a one-row UPDATE costs PostgreSQL about what a
   * 25-row one does), at the price of a longer duplicate window (relay accepted, row not
   * yet updated). A lever for a database under pressure; off by default.
   * @default 0
   */
  recordDelayMs?: number;
  /**
   * How long a failed delivery record is retried (backoff from 50 ms, doubling, at most
   * 2 s) before the row is left to its lease, which sends the mail again. A database
   * restart takes seconds: retrying meanwhile keeps those mails from going out twice.
   * At most half of `leaseSeconds`, so a row is never released while its record is retried.
   * @default half of leaseSeconds (60000)
   */
  recordRetryMs?: number;
  /**
   * Pooled SMTP connections to the relay per instance (nodemailer's `maxConnections`).
   * With `useHostMailer` the host's pool size is read from its transport instead; this
   * bounds only a non-pooled host transport (one connection per message).
   * @default 5
   */
  smtpConnections?: number;
  /**
   * How long a claim lasts. A dispatcher that dies mid-send leaves its rows to others
   * once this passes; it must exceed the longest send (SMTP timeouts are 10/10/30 s).
   * @default 120
   */
  leaseSeconds?: number;
  /**
   * Retry delays: `baseMs * 2^(attempt-1)` capped at `maxMs`, each with ±50 % jitter.
   * A message is abandoned at its deadline (the challenge's expiry).
   * @default { baseMs: 1000, maxMs: 60000 }
   */
  retry?: { baseMs?: number; maxMs?: number };
  /**
   * At most one failure-budget notice per address within this many seconds.
   * @default 86400
   */
  noticeIntervalSeconds?: number;
}

/** Mail options after defaults and checks. */
export interface ResolvedOtpMailOptions {
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
  dispatcher: boolean;
  pollIntervalMs: number;
  batchSize: number;
  maxInFlight: number;
  recordDelayMs: number;
  recordRetryMs: number;
  smtpConnections: number;
  leaseSeconds: number;
  retry: { baseMs: number; maxMs: number };
  noticeIntervalSeconds: number;
}
