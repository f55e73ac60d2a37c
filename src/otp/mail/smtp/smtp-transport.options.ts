import { isIP } from 'node:net';
import { createSecureContext, rootCertificates } from 'node:tls';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import { ResolvedOtpMailOptions } from '../mail-options';

/** Per-connection timeouts; their sum stays well under the outbox lease. */
export const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000, dnsTimeout: 10_000 };

/**
 * Nodemailer options for the relay, failing closed:
 * - `smtps://` is implicit TLS (`secure: true`); `smtp://` sets `requireTLS: true`,
 *   so a server that does not offer STARTTLS gets no message (without it nodemailer
 *   would carry on in plaintext when STARTTLS is stripped);
 * - TLS 1.2 at least, certificate and host name checked (`rejectUnauthorized` is left
 *   at its default), extra CA from `SMTP_CA_FILE` added to the system ones;
 * - never `ignoreTLS`/`opportunisticTLS`, never `debug` or a logger (they print
 *   whole messages, codes included). Plain SMTP only with the development option.
 *
 * The TLS context (CAs and minimum version) is built once here and shared by every
 * pooled connection: built per connection from `ca`, it parsed the whole system CA
 * list each time (a tenth of the dispatcher's CPU under `bench:profile`).
 */
export function smtpTransportOptions(o: ResolvedOtpMailOptions): SMTPPool.Options {
  const smtp = o.smtp;
  if (!smtp) throw new Error('no SMTP relay configured');
  const host = smtp.url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = smtp.url.port ? Number(smtp.url.port) : smtp.implicitTls ? 465 : 587;
  const tls = { minVersion: 'TLSv1.2' as const, ca: smtp.ca ? [...rootCertificates, smtp.ca] : undefined };
  return {
    pool: true,
    maxConnections: o.smtpConnections,
    maxMessages: 100,
    host,
    port,
    secure: smtp.implicitTls,
    requireTLS: !smtp.implicitTls && !smtp.plain,
    auth: smtp.url.username
      ? { user: decodeURIComponent(smtp.url.username), pass: decodeURIComponent(smtp.url.password) }
      : undefined,
    tls: {
      ...tls,
      // tls.connect uses this context instead of building one from the fields above.
      secureContext: createSecureContext({ minVersion: tls.minVersion, ca: tls.ca }),
      // SNI takes host names only; an IP address is still checked against the certificate's IP SANs.
      servername: isIP(host) ? undefined : host,
    },
    ...SMTP_TIMEOUTS,
    dkim: o.dkim ? { domainName: o.dkim.domainName, keySelector: o.dkim.keySelector, privateKey: o.dkim.privateKey } : undefined,
    logger: false,
    debug: false,
  };
}
