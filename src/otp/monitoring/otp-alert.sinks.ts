import { Logger } from '@nestjs/common';
import { OtpAlert, OtpAlertSink } from './otp-alert.types';

/** Writes each alert as one structured log line: `{"alert": "<rule>", ...}` (on by default). */
export class LogAlertSink implements OtpAlertSink {
  constructor(private readonly logger: Pick<Logger, 'warn'> = new Logger('OtpAlerts')) {}

  send(alert: OtpAlert): void {
    this.logger.warn({ ...alert, msg: `alert ${alert.alert}: ${alert.summary}` });
  }
}

/** POSTs each alert as JSON. The URL may hold a secret: it is never logged. */
export class WebhookAlertSink implements OtpAlertSink {
  private readonly logger = new Logger('OtpAlerts');

  constructor(
    private readonly url: string,
    private readonly timeoutMs = 3000,
  ) {
    const protocol = new URL(url).protocol;
    if (protocol !== 'https:' && protocol !== 'http:') throw new Error('alert webhook must be an http(s) URL');
  }

  async send(alert: OtpAlert): Promise<void> {
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alert),
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
      if (!res.ok) this.logger.error(`alert webhook answered ${res.status} for ${alert.alert}`);
    } catch (err) {
      this.logger.error(`alert webhook failed for ${alert.alert}: ${(err as Error).name}`);
    }
  }
}
