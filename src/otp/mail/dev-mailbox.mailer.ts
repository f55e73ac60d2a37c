import { Injectable } from '@nestjs/common';
import { OtpMailer, OtpMailMessage, OtpNoticeMessage } from './otp-mailer.port';

const CAPACITY = 100;

/**
 * Development mail port: keeps the newest messages in memory only, for
 * `GET /dev/mailbox`. Never used in production (see `OtpModule`).
 */
@Injectable()
export class DevMailboxMailer extends OtpMailer {
  private readonly messages: (OtpMailMessage & { receivedAt: Date })[] = [];
  private readonly noticeList: (OtpNoticeMessage & { receivedAt: Date })[] = [];

  async send(message: OtpMailMessage): Promise<void> {
    this.messages.unshift({ ...message, receivedAt: new Date() });
    this.messages.length = Math.min(this.messages.length, CAPACITY);
  }

  override async sendNotice(notice: OtpNoticeMessage): Promise<void> {
    this.noticeList.unshift({ ...notice, receivedAt: new Date() });
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

  clear(): void {
    this.messages.length = 0;
    this.noticeList.length = 0;
  }
}
