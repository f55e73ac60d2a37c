import { Injectable } from '@nestjs/common';
import { MailerService } from '@nestjs-modules/mailer';
import { ComposedMail, OtpMailComposer } from '../otp-mail.composer';
import { OtpMailer, OtpMailMessage, OtpMailReceipt, OtpNoticeMessage } from '../otp-mailer.port';

/**
 * The module's own `MailerService`, built by Nest from `MAILER_OPTIONS` (see
 * `otp-mailer.factory.ts`). Nest would close its pool at `onModuleDestroy`, when the
 * outbox dispatcher is still draining in the same phase: the pool is closed by
 * `SmtpOtpMailer` at application shutdown instead, after the last send.
 */
@Injectable()
export class OtpOwnedMailerService extends MailerService {
  override async onModuleDestroy(): Promise<void> {
    // closed by close(), after the dispatcher has drained
  }

  async close(): Promise<void> {
    await super.onModuleDestroy();
  }
}

/** What `SmtpOtpMailer` needs besides the service: how many sends at once, a reachability probe, and who closes it. */
export interface SmtpOtpMailerLink {
  concurrency: number;
  /** Reachability of the relay for `/health`; never sends a message. */
  verify(): Promise<void>;
  /** Closes the transport at shutdown: the module's own service only, never a host's. */
  close?(): Promise<void>;
}

/**
 * The mail port over `@nestjs-modules/mailer`: the module's own `MailerService`
 * (pooled SMTP under `smtpTransportOptions`) or the host's (`mail.useHostMailer`).
 * Templates are rendered by the module's composer, not by the mailer's handlebars
 * adapter, which shares the global handlebars instance, renders HTML only and
 * compiles layouts without strict mode. `context` and `template` are never passed
 * to `sendMail`: the mailer would interpolate context into subject and HTML
 * without escaping, and a host's template adapter would replace the module's mail.
 */
export class SmtpOtpMailer extends OtpMailer {
  constructor(
    private readonly composer: OtpMailComposer,
    private readonly mailer: MailerService,
    private readonly link: SmtpOtpMailerLink,
  ) {
    super();
  }

  /** One message per pooled connection: the rest wait in the dispatcher, not in nodemailer's queue. */
  override get concurrency(): number {
    return this.link.concurrency;
  }

  async send(message: OtpMailMessage): Promise<OtpMailReceipt> {
    return this.deliver(this.composer.code(message));
  }

  override async sendNotice(notice: OtpNoticeMessage): Promise<OtpMailReceipt> {
    return this.deliver(this.composer.notice(notice));
  }

  /** Reachability of the relay for `/health`: a handshake, never a message. */
  async verify(): Promise<void> {
    await this.link.verify();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.link.close?.();
  }

  private async deliver(mail: ComposedMail): Promise<OtpMailReceipt> {
    const info = await this.mailer.sendMail({
      from: mail.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      messageId: mail.messageId,
      headers: mail.headers,
    });
    return { messageId: info.messageId, response: typeof info.response === 'string' ? info.response.slice(0, 200) : undefined };
  }
}
