import { Logger, Provider } from '@nestjs/common';
import { OTP_RESOLVED_OPTIONS } from '../otp.module-definition';
import { ResolvedOtpOptions } from '../otp-options.interface';
import { DevMailboxMailer } from './dev-mailbox.mailer';
import { OtpMailComposer } from './otp-mail.composer';
import { OtpMailer } from './otp-mailer.port';
import { SmtpOtpMailer } from './smtp/smtp-otp.mailer';
import { smtpTransportOptions } from './smtp/smtp-transport.options';
import { OtpMailRenderer } from './templates/otp-mail.renderer';

/**
 * The mail port: SMTP when `mail.smtpUrl` is set (templates compiled now, so a
 * broken one fails the boot), else the development mailbox. Production without
 * SMTP never gets here: the options resolver refuses it.
 */
export const otpMailerProvider: Provider = {
  provide: OtpMailer,
  useFactory: (o: ResolvedOtpOptions): OtpMailer => {
    if (!o.mail.smtp) return new DevMailboxMailer();
    if (o.mail.smtp.plain) new Logger('OtpModule').warn('SMTP without TLS (development option): never use it for real mail');
    const displays = Object.fromEntries(Object.entries(o.purposes).map(([name, p]) => [name, p.display]));
    const composer = new OtpMailComposer(new OtpMailRenderer(o.mail.templatesDir, o.mail.defaultLocale), o.mail, displays);
    return new SmtpOtpMailer(composer, smtpTransportOptions(o.mail));
  },
  inject: [OTP_RESOLVED_OPTIONS],
};
