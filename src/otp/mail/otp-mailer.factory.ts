import { Logger, Provider } from '@nestjs/common';
import { MAILER_OPTIONS, MailerEventService, MailerOptions, MailerService } from '@nestjs-modules/mailer';
import { createTransport } from 'nodemailer';
import { OtpConfigError } from '../core/otp.errors';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import type { ResolvedPurposeOptions } from '../core/purpose-options';
import { DevMailboxMailer } from './dev-mailbox.mailer';
import type { ResolvedOtpMailOptions } from './mail-options';
import { OtpMailComposer } from './otp-mail.composer';
import { OtpMailer } from './otp-mailer.port';
import { OtpOwnedMailerService, SmtpOtpMailer } from './smtp/smtp-otp.mailer';
import { smtpTransportOptions } from './smtp/smtp-transport.options';
import { OtpMailRenderer } from './templates/otp-mail.renderer';

/** The module's own `MailerService` (private to OtpModule: never the host's, never exported). */
export const OTP_MAILER_SERVICE = Symbol('OTP_MAILER_SERVICE');

/**
 * What the module's `MailerService` is built from: the pooled SMTP transport when
 * `mail.smtpUrl` is set, no transport otherwise. No preview (it writes whole mails,
 * codes included, to the temp folder), no template adapter, no start-up verify
 * (`/health` probes the relay).
 */
export function otpMailerServiceOptions(o: { mail: ResolvedOtpMailOptions }): MailerOptions {
  const base = { preview: false, verifyTransporters: false } as const;
  return o.mail.smtp ? { ...base, transport: smtpTransportOptions(o.mail) } : { ...base, transports: {} };
}

/** Templates compiled and checked now, whatever the transport: a broken template or overlay fails the boot. */
function composer(o: ResolvedPurposeOptions & { mail: ResolvedOtpMailOptions }): OtpMailComposer {
  const displays = Object.fromEntries(Object.entries(o.purposes).map(([name, p]) => [name, p.display]));
  const renderer = new OtpMailRenderer(o.mail.templatesDir, o.mail.defaultLocale, o.mail.templatesOverlay);
  return new OtpMailComposer(renderer, o.mail, displays);
}

/**
 * How many messages the host's MailerService may have at once without nodemailer queueing
 * them (a message queued there is sent again if its lease ends meanwhile): a pooled
 * transport's `maxConnections` (nodemailer's default 5), read from the transport itself.
 * A non-pooled SMTP transport opens one connection per message and queues nothing, and a
 * transport that cannot be read (another kind, a stand-in): `smtpConnections` bounds them.
 */
export function hostMailerConcurrency(host: MailerService, smtpConnections: number): number {
  let pool: { options?: { maxConnections?: unknown } } | undefined;
  try {
    const transporter = (host.getTransporter?.() as { transporter?: { name?: unknown; options?: { maxConnections?: unknown } } } | undefined)?.transporter;
    if (transporter?.name === 'SMTP (pool)') pool = transporter;
  } catch {
    pool = undefined; // no default transporter: sendMail would fail as well, and /health says so
  }
  const size = pool?.options?.maxConnections;
  if (pool) return typeof size === 'number' && Number.isInteger(size) && size >= 1 ? size : 5;
  return smtpConnections;
}

/**
 * The mail port: the host's `MailerService` with `mail.useHostMailer`, the module's
 * own over SMTP when `mail.smtpUrl` is set, else the development mailbox.
 * Production without either never gets here: the options resolver refuses it.
 */
export const otpMailerProvider: Provider = {
  provide: OtpMailer,
  useFactory: (o: ResolvedPurposeOptions & { mail: ResolvedOtpMailOptions }, own: OtpOwnedMailerService, host: MailerService | undefined): OtpMailer => {
    const mail = composer(o);
    if (o.mail.useHostMailer) {
      if (!host) throw new OtpConfigError('mail.useHostMailer needs a MailerService in the host: register MailerModule.forRoot(...) (global) in the app');
      return new SmtpOtpMailer(mail, host, {
        concurrency: hostMailerConcurrency(host, o.mail.smtpConnections),
        verify: async () => {
          if (!(await host.verifyAllTransporters())) throw new Error('the host MailerService cannot reach its transport');
        },
      });
    }
    if (!o.mail.smtp) return new DevMailboxMailer(mail);
    if (o.mail.smtp.plain) new Logger('OtpModule').warn('SMTP without TLS (development option): never use it for real mail');
    const transport = smtpTransportOptions(o.mail);
    return new SmtpOtpMailer(mail, own, {
      concurrency: transport.maxConnections ?? 5,
      // A one-off connection under the same TLS policy, so the pool's connections stay for mail.
      verify: async () => {
        const probe = createTransport({ ...transport, pool: false, dkim: undefined });
        try {
          await probe.verify();
        } finally {
          probe.close();
        }
      },
      close: () => own.close(),
    });
  },
  inject: [OTP_RESOLVED_OPTIONS, OTP_MAILER_SERVICE, { token: MailerService, optional: true }],
};

/**
 * OtpModule's mail providers. `MailerService` is built by Nest (its own constructor
 * injection) from `MAILER_OPTIONS`, as `MailerModule.forRoot` would, but as a private
 * provider: `MailerModule` registers a `@Global()` core module, which would publish the
 * OTP relay's service to every host module and clash with a host's own `MailerModule`.
 */
export const OTP_MAILER_PROVIDERS: Provider[] = [
  { provide: MAILER_OPTIONS, useFactory: otpMailerServiceOptions, inject: [OTP_RESOLVED_OPTIONS] },
  // R37: no event service. A host's MailerModule exports one globally; given to this service it
  // would emit every code mail (text and HTML) to the host's listeners.
  { provide: MailerEventService, useValue: null },
  { provide: OTP_MAILER_SERVICE, useClass: OtpOwnedMailerService },
  otpMailerProvider,
];
