import type { MailerService } from '@nestjs-modules/mailer';
import { createTransport } from 'nodemailer';
import { resolveOtpMailOptions } from '../mail-options';
import { OtpMailComposer } from '../otp-mail.composer';
import { OtpMailMessage } from '../otp-mailer.port';
import { OtpMailRenderer } from '../templates/otp-mail.renderer';
import { SmtpOtpMailer } from './smtp-otp.mailer';

const options = resolveOtpMailOptions({ from: '"Example Bank" <otp@example.test>', appUrl: 'https://app.example.test' }, false);
const composer = new OtpMailComposer(new OtpMailRenderer(options.templatesDir), options);

const message: OtpMailMessage = {
  challengeId: '00000000-0000-4000-8000-000000000001',
  messageId: '00000000-0000-4000-8000-0000000000aa',
  to: 'Person <person@example.com>',
  code: '482913',
  purpose: 'login',
  locale: 'de',
  requestedAt: new Date('2026-03-04T09:30:00Z'),
  expiresAt: new Date('2026-03-04T09:40:00Z'),
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
};

/** A MailerService over nodemailer's stream transport: what it would put on the wire, and the envelope. */
function capturing(): { service: MailerService; sent: { envelope: unknown; message: string }[] } {
  const transport = createTransport({ streamTransport: true, buffer: true });
  const sent: { envelope: unknown; message: string }[] = [];
  const service = {
    sendMail: async (mail: object) => {
      const info = (await transport.sendMail(mail)) as unknown as { envelope: unknown; message: Buffer; response?: string };
      sent.push({ envelope: info.envelope, message: info.message.toString('utf8') });
      return { ...info, response: '250 2.0.0 queued as 7F3A' };
    },
  } as unknown as MailerService;
  return { service, sent };
}

/** The bytes, with what differs on every build (the part boundaries, the Date header) made equal. */
function comparable(raw: string): string {
  const boundaries = [...new Set([...raw.matchAll(/boundary="([^"]+)"/g)].map((m) => m[1]))];
  let out = raw.replace(/^Date: .*$/m, 'Date: <date>');
  boundaries.forEach((b, i) => (out = out.split(b).join(`<boundary ${i}>`)));
  return out;
}

describe('SmtpOtpMailer', () => {
  it('hands the module\'s own transport the finished message: the same bytes and envelope as nodemailer builds from the fields', async () => {
    const fields = capturing();
    const finished = capturing();
    const a = await new SmtpOtpMailer(composer, fields.service, { concurrency: 1, verify: async () => undefined }).send(message);
    const b = await new SmtpOtpMailer(composer, finished.service, { concurrency: 1, verify: async () => undefined, finishedMessages: true }).send(message);
    expect(finished.sent).toHaveLength(1);
    expect(comparable(finished.sent[0].message)).toBe(comparable(fields.sent[0].message));
    expect(finished.sent[0].envelope).toEqual(fields.sent[0].envelope);
    expect(finished.sent[0].envelope).toEqual({ from: 'otp@example.test', to: ['person@example.com'] });
    expect(finished.sent[0].message).toContain('Message-ID: <00000000-0000-4000-8000-0000000000aa@example.test>');
    expect(finished.sent[0].message).toMatch(/Content-Type: multipart\/alternative[\s\S]*text\/plain[\s\S]*text\/html/);
    // The receipt the outbox row records is the same either way.
    expect(b).toEqual(a);
    expect(b).toEqual({ messageId: '<00000000-0000-4000-8000-0000000000aa@example.test>', response: '250 2.0.0 queued as 7F3A' });
  });

  it("gives a host's MailerService the fields (its template adapter and plugins read them), never a finished message", async () => {
    const host = capturing();
    const send = jest.spyOn(host.service, 'sendMail');
    await new SmtpOtpMailer(composer, host.service, { concurrency: 1, verify: async () => undefined }).send(message);
    const given = send.mock.calls[0][0] as Record<string, unknown>;
    expect(given).not.toHaveProperty('raw');
    expect(given).toMatchObject({ to: message.to, html: expect.stringContaining('482913'), text: expect.stringContaining('482913') });
  });
});
