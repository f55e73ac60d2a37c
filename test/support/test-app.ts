import { randomBytes } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { configureApp } from '../../src/app/app.factory';
import { AppModule } from '../../src/app/app.module';
import { DevMailboxMailer, OtpMailDispatcher, OtpMailer } from '../../src/otp';

/** Fresh `kid:base64` keys, made at test time (never committed). */
export function testKeyLine(id = 'k1'): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}

export interface TestApp {
  app: INestApplication;
  mailbox: DevMailboxMailer;
  /**
   * The newest code mailed for a challenge, polling until it arrives (deadline 5 s);
   * waits for the dispatcher to record the delivery too.
   */
  codeFor(challengeId: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Production refuses to start without a relay: production-mode test apps get a
 * placeholder one (contacted only if a test sends mail), unless the test sets its own
 * (`SMTP_URL: ''` to see the refusal).
 */
function productionMail(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.NODE_ENV === 'production'
    ? { SMTP_URL: 'smtps://127.0.0.1:9', MAIL_FROM: '"Test" <otp@example.test>', APP_URL: 'https://app.example.test' }
    : {};
}

/** Boots the example app exactly as `main.ts` does, on the given environment. */
export async function bootTestApp(env: NodeJS.ProcessEnv): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forEnv({ OTP_KEYS: testKeyLine(), OTP_ENCRYPTION_KEYS: testKeyLine('e1'), ...productionMail(env), ...env })],
  })
    .setLogger(false as never)
    .compile();
  const app = configureApp(moduleRef.createNestApplication({ bodyParser: false, logger: false }));
  await app.init();
  const mailbox = app.get(OtpMailer) as DevMailboxMailer;
  return {
    app,
    mailbox,
    async codeFor(challengeId: string): Promise<string> {
      const code = await pollFor(() => mailbox.list().find((m) => m.challengeId === challengeId)?.code);
      await app.get(OtpMailDispatcher).whenIdle();
      return code;
    },
    close: () => app.close(),
  };
}

/** Polls `probe` until it returns a value, or fails after `deadlineMs`. */
export async function pollFor<T>(probe: () => T | undefined | Promise<T | undefined>, deadlineMs = 5000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`condition not met within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
