import { OnApplicationShutdown } from '@nestjs/common';
import { MailerService } from '@nestjs-modules/mailer';
import { createTransport } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import { ComposedMail, OtpMailComposer } from '../otp-mail.composer';
import { OtpMailer, OtpMailMessage, OtpMailReceipt, OtpNoticeMessage } from '../otp-mailer.port';

/**
 * The SMTP mail port: renders the typed templates and sends through a pooled
 * `@nestjs-modules/mailer` transport built by `smtpTransportOptions`. Templates are
 * rendered here rather than by the mailer's handlebars adapter, which shares the
 * global handlebars instance, renders HTML only and compiles layouts without
 * strict mode. `context` is never passed to `sendMail`: the mailer would
 * interpolate it into subject and HTML without escaping.
 */
export class SmtpOtpMailer extends OtpMailer implements OnApplicationShutdown {
  private readonly mailer: MailerService;

  constructor(private readonly composer: OtpMailComposer, private readonly transport: SMTPPool.Options) {
    super();
    this.mailer = new MailerService({ transport, preview: false, verifyTransporters: false }, undefined as never);
  }

  /** One message per pooled connection: the rest wait in the dispatcher, not in nodemailer's queue. */
  override get concurrency(): number {
    return this.transport.maxConnections ?? 5;
  }

  async send(message: OtpMailMessage): Promise<OtpMailReceipt> {
    return this.deliver(this.composer.code(message));
  }

  override async sendNotice(notice: OtpNoticeMessage): Promise<OtpMailReceipt> {
    return this.deliver(this.composer.notice(notice));
  }

  /**
   * Reachability of the relay for `/health`: connect, TLS under the same policy as
   * sending (the same options), authenticate, QUIT. Never sends a message. A
   * one-off connection, so the pool's connections stay for mail.
   */
  async verify(): Promise<void> {
    const probe = createTransport({ ...this.transport, pool: false, dkim: undefined });
    try {
      await probe.verify();
    } finally {
      probe.close();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.mailer.onModuleDestroy();
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
