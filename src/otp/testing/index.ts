/**
 * `nestjs-email-otp/testing`: for a host's own e2e tests. Mails are captured in memory instead of
 * sent, and `latestOtpCode(app, email)` returns the newest code for an address, so a test signs in
 * without SMTP or the development mailbox. Refused when NODE_ENV=production.
 *
 *   const moduleRef = await withOtpTestMailer(Test.createTestingModule({ imports: [AppModule] })).compile();
 *   ... POST /auth/otp/challenges ...
 *   const code = await latestOtpCode(app, 'ada@example.com');
 */
import type { INestApplicationContext, Provider } from '@nestjs/common';
import { OtpMailer, OtpMailMessage, OtpNoticeMessage } from '../mail/otp-mailer.port';

function refuseInProduction(): void {
  if (process.env.NODE_ENV === 'production') {
    throw new Error('nestjs-email-otp/testing is refused when NODE_ENV=production: it captures codes instead of mailing them');
  }
}

const sameAddress = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/** A mail port that keeps every message in memory (newest last) and sends nothing. */
export class OtpTestMailer extends OtpMailer {
  readonly messages: OtpMailMessage[] = [];
  readonly notices: OtpNoticeMessage[] = [];

  constructor() {
    super();
    refuseInProduction();
  }

  async send(message: OtpMailMessage): Promise<void> {
    this.messages.push(message);
  }

  override async sendNotice(notice: OtpNoticeMessage): Promise<void> {
    this.notices.push(notice);
  }

  /** The newest code mailed to `email` (or for `challengeId`), if any. */
  latest(email: string, challengeId?: string): OtpMailMessage | undefined {
    return this.messages.findLast((m) => sameAddress(m.to, email) && (challengeId === undefined || m.challengeId === challengeId));
  }

  clear(): void {
    this.messages.length = 0;
    this.notices.length = 0;
  }
}

/** The provider that replaces the module's mail port with an `OtpTestMailer`. */
export function provideOtpTestMailer(): Provider {
  return { provide: OtpMailer, useFactory: () => new OtpTestMailer() };
}

/** Overrides the module's mail port on a `Test.createTestingModule(...)` builder (from `@nestjs/testing`). */
export function withOtpTestMailer<B extends { overrideProvider(token: unknown): { useFactory(o: { factory: () => unknown }): B } }>(builder: B): B {
  refuseInProduction();
  return builder.overrideProvider(OtpMailer).useFactory({ factory: () => new OtpTestMailer() });
}

/** The app's test mailer; throws if the mail port was not replaced (see `withOtpTestMailer`). */
export function otpTestMailer(app: INestApplicationContext): OtpTestMailer {
  const mailer = app.get(OtpMailer, { strict: false });
  if (!(mailer instanceof OtpTestMailer)) throw new Error('the OTP mail port is not the test mailer: build the app with withOtpTestMailer(...)');
  return mailer;
}

/**
 * The newest code mailed to `email` (for `challengeId` when given). Mail leaves through the outbox
 * after the request returns, so this polls until it arrives or `timeoutMs` passes.
 */
export async function latestOtpCode(app: INestApplicationContext, email: string, opts: { challengeId?: string; timeoutMs?: number } = {}): Promise<string> {
  const mailer = otpTestMailer(app);
  const until = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    const message = mailer.latest(email, opts.challengeId);
    if (message) return message.code;
    if (Date.now() > until) throw new Error(`no OTP mail to ${email} within ${opts.timeoutMs ?? 10_000} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
