import { Injectable } from '@nestjs/common';
import { MailerService } from '@nestjs-modules/mailer';
import MailComposer from 'nodemailer/lib/mail-composer';
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
  /**
   * Build each message here (nodemailer's own MIME composer, the same bytes) and hand the
   * transport the finished message: the module's own transport only, which has no plugins.
   * A host's may have a template adapter or plugins that read `html`, so it gets the fields.
   */
  finishedMessages?: boolean;
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
    const fields = {
      from: mail.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      messageId: mail.messageId,
      headers: mail.headers,
    };
    if (!this.link.finishedMessages) {
      const info = await this.mailer.sendMail(fields);
      return { messageId: info.messageId, response: replyOf(info) };
    }
    // What the transport would build from the fields, built here: handed over as one buffer,
    // the message goes to the socket in one write instead of one per header and part (each a
    // TLS record and a system call), about half the writes of a message. DKIM still signs it.
    const message = new MailComposer(fields).compile();
    const raw = await message.build();
    const info = await this.mailer.sendMail({ envelope: message.getEnvelope(), raw });
    // nodemailer does not read the Message-ID back from a finished message: it is the one set above.
    return { messageId: mail.messageId, response: replyOf(info) };
  }
}

/** The relay's reply, as much of it as a row keeps. */
function replyOf(info: { response?: unknown }): string | undefined {
  return typeof info.response === 'string' ? info.response.slice(0, 200) : undefined;
}
