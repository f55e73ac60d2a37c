import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { MailerService } from '@nestjs-modules/mailer';
import { createTransport } from 'nodemailer';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import { OtpConfigError } from '../core/otp.errors';
import { resolveOtpOptions } from '../options/otp-options.resolver';
import { OtpModuleOptions } from '../options/otp-options.interface';
import { OtpMailer } from './otp-mailer.port';
import { OTP_MAILER_PROVIDERS } from './otp-mailer.factory';

const KEY = `k1:${Buffer.alloc(32, 7).toString('base64')}`;
const ENCRYPTION_KEY = `e1:${Buffer.alloc(32, 9).toString('base64')}`;

/** The mail providers of OtpModule, in a Nest container, with `host` as the host's global MailerService if given. */
async function mailProviders(mail: OtpModuleOptions['mail'], host?: Partial<MailerService>, purposes?: OtpModuleOptions['purposes']) {
  const options = resolveOtpOptions({ keys: KEY, encryptionKeys: ENCRYPTION_KEY, mail, purposes } as OtpModuleOptions);
  const builder = Test.createTestingModule({
    providers: [{ provide: OTP_RESOLVED_OPTIONS, useValue: options }, ...OTP_MAILER_PROVIDERS, ...(host ? [{ provide: MailerService, useValue: host }] : [])],
  });
  return builder.compile();
}

const message = {
  challengeId: '00000000-0000-4000-8000-000000000001', messageId: '00000000-0000-4000-8000-0000000000aa', to: 'person@example.com',
  code: '482913', purpose: 'login', requestedAt: new Date(), expiresAt: new Date(Date.now() + 600_000),
};

describe('OtpMailer: @nestjs-modules/mailer the Nest way', () => {
  it('a host-provided MailerService (mail.useHostMailer) is the one used, with the module\'s own rendering and no mailer context', async () => {
    const sendMail = jest.fn().mockResolvedValue({ messageId: '<m@x>', response: '250 ok' });
    const app = await mailProviders({ useHostMailer: true, smtpConnections: 3 }, { sendMail });
    const mailer = app.get(OtpMailer);
    await expect(mailer.send(message)).resolves.toEqual({ messageId: '<m@x>', response: '250 ok' });
    expect(sendMail).toHaveBeenCalledTimes(1);
    const sent = sendMail.mock.calls[0][0];
    expect(sent.to).toBe('person@example.com');
    expect(sent.text).toContain('482913');
    expect(sent.html).toContain('482913');
    expect(sent.subject).not.toContain('482913');
    expect(sent).not.toHaveProperty('context');
    expect(sent).not.toHaveProperty('template');
    expect(mailer.concurrency).toBe(3);
    await app.close();
  });

  it('with the host mailer, concurrency is the host pool\'s maxConnections (nodemailer\'s 5 when unset); a non-pooled transport keeps smtpConnections', async () => {
    const cases: [Record<string, unknown>, number][] = [
      [{ pool: true, host: 'relay.example', maxConnections: 1 }, 1],
      [{ pool: true, host: 'relay.example' }, 5],
      [{ host: 'relay.example' }, 3],
    ];
    for (const [options, expected] of cases) {
      const transporter = createTransport(options);
      try {
        const app = await mailProviders({ useHostMailer: true, smtpConnections: 3 }, { sendMail: jest.fn(), getTransporter: () => transporter } as never);
        expect(app.get(OtpMailer).concurrency).toBe(expected);
        await app.close();
      } finally {
        transporter.close();
      }
    }
  });

  it('R36: the template is chosen by purpose, never by a context: a public purpose (step-up, mapped to transaction by default) never gets the transaction mail, the host-issued transfer does', async () => {
    const sendMail = jest.fn().mockResolvedValue({ messageId: '<m@x>', response: '250 ok' });
    const purposes: OtpModuleOptions['purposes'] = {
      login: {}, 'step-up': {}, 'close-account': {},
      transfer: { requiresContext: true, contextFields: { amount: 'number', to: 'string' } },
    };
    const app = await mailProviders({ useHostMailer: true, from: 'otp@example.test', appUrl: 'https://app.example.test' }, { sendMail }, purposes);
    const mailer = app.get(OtpMailer);
    const context = { amount: 5000, to: 'attacker' };
    for (const purpose of ['step-up', 'close-account', 'login']) {
      await mailer.send({ ...message, purpose, context });
      await mailer.send({ ...message, purpose });
    }
    for (const call of sendMail.mock.calls) expect(call[0].subject).not.toMatch(/approve your transaction/);
    expect(sendMail.mock.calls.map((c) => c[0].subject)).toContain('app.example.test: your security code');
    sendMail.mockClear();
    await mailer.send({ ...message, purpose: 'transfer', context: { amount: 10, to: 'alice' } });
    expect(sendMail.mock.calls[0][0].subject).toMatch(/approve your transaction/);
    await app.close();
  });

  it('R36: templateByPurpose mapping a public purpose to the transaction template is refused at start-up', () => {
    expect(() => resolveOtpOptions({
      keys: KEY, encryptionKeys: ENCRYPTION_KEY, purposes: { login: {}, 'step-up': {} }, mail: { templateByPurpose: { 'step-up': 'transaction' } },
    } as OtpModuleOptions)).toThrow(/step-up.*public.*transaction|transaction.*step-up/);
  });

  it('mail.useHostMailer without a MailerService in the host fails at start-up with one clear message', async () => {
    await expect(mailProviders({ useHostMailer: true })).rejects.toThrow(OtpConfigError);
    await expect(mailProviders({ useHostMailer: true })).rejects.toThrow(/MailerModule/);
  });

  it('mail.useHostMailer and mail.smtpUrl exclude each other', () => {
    expect(() => resolveOtpOptions({ keys: KEY, encryptionKeys: ENCRYPTION_KEY, mail: { useHostMailer: true, smtpUrl: 'smtps://relay.example:465' } } as OtpModuleOptions))
      .toThrow(/useHostMailer.*smtpUrl|smtpUrl.*useHostMailer/);
  });

  it('with SMTP the module\'s own MailerService is built by Nest (not by hand), carries the pool, and is not the host\'s', async () => {
    const host = { sendMail: jest.fn() };
    const app = await mailProviders({ smtpUrl: 'smtps://relay.example:465', smtpConnections: 2 }, host);
    const mailer = app.get(OtpMailer);
    expect(mailer.concurrency).toBe(2);
    const own = (mailer as unknown as { mailer: MailerService }).mailer;
    expect(own).toBeInstanceOf(MailerService);
    expect(own).not.toBe(host);
    const transport = own.getTransporter().options as Record<string, unknown>;
    expect(transport).toMatchObject({ pool: true, maxConnections: 2, secure: true, host: 'relay.example', port: 465, logger: false, debug: false });
    await app.close();
  });

  it('a bad mail.templatesOverlay fails start-up naming the file, with the development mailbox too', async () => {
    const overlay = mkdtempSync(join(tmpdir(), 'otp-overlay-'));
    try {
      mkdirSync(join(overlay, 'locales'));
      writeFileSync(join(overlay, 'locales', 'de.json'), '{ not json');
      await expect(mailProviders({ templatesOverlay: overlay })).rejects.toThrow(`${join(overlay, 'locales', 'de.json')} is not valid JSON`);
    } finally {
      rmSync(overlay, { recursive: true, force: true });
    }
  });

  it('without SMTP no transport is created: the development mailbox is the port', async () => {
    const app = await mailProviders({});
    expect(app.get(OtpMailer).constructor.name).toBe('DevMailboxMailer');
    await app.close();
  });
});
