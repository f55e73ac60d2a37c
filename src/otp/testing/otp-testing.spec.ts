import { OtpMailer } from '../mail/otp-mailer.port';
import { latestOtpCode, OtpTestMailer, provideOtpTestMailer, withOtpTestMailer } from './index';

describe('nestjs-email-otp/testing', () => {
  const env = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = env;
  });
  const message = (to: string, code: string, challengeId: string) =>
    ({ to, code, challengeId, purpose: 'login', expiresAt: new Date(), requestedAt: new Date() });
  const appWith = (mailer: unknown) => ({ get: () => mailer }) as never;

  it('latestOtpCode returns the newest code for an address (case-insensitive), or for a given challenge', async () => {
    const mailer = new OtpTestMailer();
    await mailer.send(message('Ada@Example.com', '111111', 'c1'));
    await mailer.send(message('bob@example.com', '222222', 'c2'));
    await mailer.send(message('ada@example.com', '333333', 'c3'));
    await expect(latestOtpCode(appWith(mailer), 'ada@example.com')).resolves.toBe('333333');
    await expect(latestOtpCode(appWith(mailer), 'ADA@example.com', { challengeId: 'c1' })).resolves.toBe('111111');
  });

  it('latestOtpCode waits for the outbox (polls) and fails with a clear message after its deadline', async () => {
    const mailer = new OtpTestMailer();
    const pending = latestOtpCode(appWith(mailer), 'ada@example.com');
    setImmediate(() => void mailer.send(message('ada@example.com', '444444', 'c4')));
    await expect(pending).resolves.toBe('444444');
    await expect(latestOtpCode(appWith(mailer), 'nobody@example.com', { timeoutMs: 30 })).rejects.toThrow('no OTP mail to nobody@example.com within 30 ms');
    await expect(latestOtpCode(appWith({}), 'ada@example.com')).rejects.toThrow(/not the test mailer/);
  });

  it('provideOtpTestMailer and withOtpTestMailer replace the module\'s mail port', () => {
    const provider = provideOtpTestMailer() as { provide: unknown; useFactory: () => unknown };
    expect(provider.provide).toBe(OtpMailer);
    expect(provider.useFactory()).toBeInstanceOf(OtpTestMailer);
    let factory: (() => unknown) | undefined;
    const builder = { overrideProvider: (token: unknown) => ({ useFactory: (o: { factory: () => unknown }) => { expect(token).toBe(OtpMailer); factory = o.factory; return builder; } }) };
    expect(withOtpTestMailer(builder)).toBe(builder);
    expect(factory!()).toBeInstanceOf(OtpTestMailer);
  });

  it('is refused when NODE_ENV=production', () => {
    process.env.NODE_ENV = 'production';
    expect(() => new OtpTestMailer()).toThrow('nestjs-email-otp/testing is refused when NODE_ENV=production');
    expect(() => withOtpTestMailer({ overrideProvider: () => ({ useFactory: () => ({}) }) } as never)).toThrow(/refused when NODE_ENV=production/);
  });
});
