import { randomUUID } from 'node:crypto';
import { Injectable, Optional } from '@nestjs/common';
import { ComposedMail, OtpMailComposer } from './otp-mail.composer';
import { OtpMailer, OtpMailMessage, OtpNoticeMessage } from './otp-mailer.port';

const CAPACITY = 100;

/** A message as the development mailbox keeps it: `id` names it on the mailbox page. */
export type DevMailboxEntry<T> = T & { id: string; receivedAt: Date };

/**
 * Development mail port: keeps the newest messages in memory only, for
 * `GET /dev/mailbox`. Never used in production (see `OtpModule`). With the
 * module's composer it also renders each message as the recipient would get it.
 */
@Injectable()
export class DevMailboxMailer extends OtpMailer {
  private readonly messages: DevMailboxEntry<OtpMailMessage>[] = [];
  private readonly noticeList: DevMailboxEntry<OtpNoticeMessage>[] = [];

  constructor(@Optional() private readonly composer?: OtpMailComposer) {
    super();
  }

  async send(message: OtpMailMessage): Promise<void> {
    this.messages.unshift({ ...message, id: randomUUID(), receivedAt: new Date() });
    this.messages.length = Math.min(this.messages.length, CAPACITY);
  }

  override async sendNotice(notice: OtpNoticeMessage): Promise<void> {
    this.noticeList.unshift({ ...notice, id: randomUUID(), receivedAt: new Date() });
    this.noticeList.length = Math.min(this.noticeList.length, CAPACITY);
  }

  /** Security notices, newest first. */
  notices(): readonly (OtpNoticeMessage & { receivedAt: Date })[] {
    return this.noticeList;
  }

  /** Newest first. */
  list(): readonly (OtpMailMessage & { receivedAt: Date })[] {
    return this.messages;
  }

  /** Code mails and notices with the ids that name them on the mailbox page, newest first. */
  entries(): { codes: readonly DevMailboxEntry<OtpMailMessage>[]; notices: readonly DevMailboxEntry<OtpNoticeMessage>[] } {
    return { codes: this.messages, notices: this.noticeList };
  }

  /**
   * A kept message (code mail or notice) rendered as its recipient gets it, in the language
   * `locale` resolves to (the message's own when undefined); undefined for an unknown id or
   * without a composer.
   */
  render(id: string, locale?: string): ComposedMail | undefined {
    if (!this.composer) return undefined;
    const code = this.messages.find((m) => m.id === id);
    if (code) return this.composer.code(locale === undefined ? code : { ...code, locale });
    const notice = this.noticeList.find((n) => n.id === id);
    if (notice) return this.composer.notice(locale === undefined ? notice : { ...notice, locale });
    return undefined;
  }

  clear(): void {
    this.messages.length = 0;
    this.noticeList.length = 0;
  }
}
