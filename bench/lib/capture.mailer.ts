import { OtpMailer, OtpMailMessage } from '../../src/otp';

/**
 * Test-only capture of the mail port (the benchmark overrides the `OtpMailer`
 * provider with it): while recording, keeps each challenge's newest code so the
 * harness can prepare verify requests; otherwise drops the message, like a
 * mail hand-off that costs nothing.
 */
export class BenchCaptureMailer extends OtpMailer {
  recording = false;
  /** Keep every code for good (the leak test's canaries), not only while recording. */
  keepAll = false;
  readonly codes = new Map<string, string>();
  readonly allCodes: string[] = [];
  sent = 0;

  async send(message: OtpMailMessage): Promise<void> {
    this.sent++;
    if (this.recording || this.keepAll) this.codes.set(message.challengeId, message.code);
    if (this.keepAll) this.allCodes.push(message.code);
  }
}
