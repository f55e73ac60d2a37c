import { Injectable } from '@nestjs/common';
import { OtpMailer, OtpMailMessage } from './otp-mailer.port';

const CAPACITY = 100;

/**
 * Development mail port: keeps the newest messages in memory only, for
 * `GET /dev/mailbox`. Never used in production (see `OtpModule`).
 */
@Injectable()
export class DevMailboxMailer extends OtpMailer {
  private readonly messages: (OtpMailMessage & { receivedAt: Date })[] = [];

  async send(message: OtpMailMessage): Promise<void> {
    this.messages.unshift({ ...message, receivedAt: new Date() });
    this.messages.length = Math.min(this.messages.length, CAPACITY);
  }

  /** Newest first. */
  list(): readonly (OtpMailMessage & { receivedAt: Date })[] {
    return this.messages;
  }

  clear(): void {
    this.messages.length = 0;
  }
}
