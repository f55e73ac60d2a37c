import { OtpMailer, OtpMailMessage } from '../../src/otp';

/**
 * Test-only capture of the mail port (the benchmark overrides the `OtpMailer`
 * provider with it): while recording, keeps each challenge's newest code so the
 * harness can prepare verify requests; otherwise drops the message, like a
 * mail hand-off that costs nothing.
 */
export class BenchCaptureMailer extends OtpMailer {
  recording = false;
  readonly codes = new Map<string, string>();
  sent = 0;

  async send(message: OtpMailMessage): Promise<void> {
    this.sent++;
    if (this.recording) this.codes.set(message.challengeId, message.code);
  }
}
