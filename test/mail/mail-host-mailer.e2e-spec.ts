import { readFileSync } from 'node:fs';
import { Test } from '@nestjs/testing';
import { MailerEventService, MailerModule, MailerService } from '@nestjs-modules/mailer';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OtpModule, OtpService } from '../../src/otp';
import { OtpMailer } from '../../src/otp/mail/otp-mailer.port';
import { OtpMailDispatcher } from '../../src/otp/mail/outbox/otp-mail.dispatcher';
import { makeTestCert, startSmtpServer, TestCert, TestSmtpServer } from '../support/smtp-test-server';
import { pollFor, testKeyLine } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';

// One deployment's keys for both apps: the database records its index key's fingerprint on first start.
const KEYS = { keys: testKeyLine(), encryptionKeys: testKeyLine('e') };

describe('mail.useHostMailer: the codes leave through the host\'s own MailerModule', () => {
  let db: TestDatabase;
  let cert: TestCert;
  let smtp: TestSmtpServer;

  beforeAll(async () => {
    db = await createTestDatabase();
    cert = makeTestCert();
    smtp = await startSmtpServer({ key: cert.key, cert: cert.cert });
  });
  afterAll(async () => {
    await smtp?.close();
    await db?.drop();
    cert?.remove();
  });

  it('a host MailerModule.forRoot is the one used: the code mail reaches its relay, rendered by the module, and the host keeps its own MailerService', async () => {
    const relay = new URL(smtp.url('smtp'));
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: db.url, autoLoadEntities: true }),
        MailerModule.forRoot({
          transport: { host: relay.hostname, port: Number(relay.port), requireTLS: true, tls: { ca: [readFileSync(cert.certFile, 'utf8')] } },
        }),
        OtpModule.forRoot({
          ...KEYS, operatorRoutes: false, routePrefix: false,
          mail: { useHostMailer: true, from: '"Example Bank" <otp@example.test>', appUrl: 'https://app.example.test', pollIntervalMs: 50 },
        }),
      ],
    }).setLogger(false as never).compile();
    // No HTTP here: the module's providers and their lifecycle (the dispatcher starts on bootstrap).
    const app = await moduleRef.init();
    try {
      const host = app.get(MailerService);
      const sendMail = jest.spyOn(host, 'sendMail');
      const address = `host-mailer.${Date.now()}@example.com`;
      await app.get(OtpService).issue({ email: address });
      const mail = await pollFor(() => smtp.messages.find((m) => JSON.stringify(m.parsed.to).includes(address)));
      expect(sendMail).toHaveBeenCalledTimes(1);
      expect(mail.secure).toBe(true);
      expect(mail.parsed.subject).toBe('Example Bank: your sign-in code');
      expect(mail.parsed.text).toMatch(/Your code: \d{6}/);
      expect(mail.parsed.text).toContain('Enter this code only at app.example.test.');
    } finally {
      await app.close();
    }
  });

  it('a host MailerModule pool of maxConnections 1 gets one message at a time: the rest wait in the dispatcher, not in nodemailer\'s queue', async () => {
    const relay = new URL(smtp.url('smtp'));
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: db.url, autoLoadEntities: true }),
        MailerModule.forRoot({
          transport: { pool: true, maxConnections: 1, host: relay.hostname, port: Number(relay.port), requireTLS: true, tls: { ca: [readFileSync(cert.certFile, 'utf8')] } },
        }),
        OtpModule.forRoot({
          ...KEYS, operatorRoutes: false, routePrefix: false,
          mail: { useHostMailer: true, smtpConnections: 5, from: '"Example Bank" <otp@example.test>', appUrl: 'https://app.example.test', pollIntervalMs: 50 },
        }),
      ],
    }).setLogger(false as never).compile();
    const app = await moduleRef.init();
    try {
      const host = app.get(MailerService);
      const dispatcher = app.get(OtpMailDispatcher) as unknown as { inFlight: Set<unknown> };
      const original = host.sendMail.bind(host);
      let calls = 0;
      let withNodemailer = 0;
      let most = 0;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      jest.spyOn(host, 'sendMail').mockImplementation(async (mail) => {
        calls++;
        withNodemailer++;
        most = Math.max(most, withNodemailer);
        try {
          if (calls === 1) await gate; // the first send holds its connection until the others are claimed
          return await original(mail);
        } finally {
          withNodemailer--;
        }
      });
      const stamp = Date.now();
      const addresses = [1, 2, 3].map((n) => `pool-one.${n}.${stamp}@example.com`);
      for (const email of addresses) await app.get(OtpService).issue({ email });
      // All three claimed by the dispatcher (or, before the fix, a second one already with nodemailer).
      await pollFor(() => (dispatcher.inFlight.size >= 3 || calls > 1 ? true : undefined));
      release();
      for (const address of addresses) await pollFor(() => smtp.messages.find((m) => JSON.stringify(m.parsed.to).includes(address)));
      expect(calls).toBe(3);
      expect(most).toBe(1);
      expect(app.get(OtpMailer).concurrency).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('R37: without useHostMailer the module sends through its own private MailerService, even when the host registers one of its own, and the host\'s mailer events never see a code mail', async () => {
    const own = await startSmtpServer({ key: cert.key, cert: cert.cert });
    try {
      const relay = new URL(smtp.url('smtp'));
      const moduleRef = await Test.createTestingModule({
        imports: [
          TypeOrmModule.forRoot({ type: 'postgres', url: db.url, autoLoadEntities: true }),
          MailerModule.forRoot({ transport: { host: relay.hostname, port: Number(relay.port), requireTLS: true, tls: { ca: [readFileSync(cert.certFile, 'utf8')] } } }),
          OtpModule.forRoot({
            ...KEYS, operatorRoutes: false, routePrefix: false,
            mail: { smtpUrl: own.url('smtp'), caFile: cert.certFile, from: '"Example Bank" <otp@example.test>', appUrl: 'https://app.example.test', pollIntervalMs: 50 },
          }),
        ],
      }).setLogger(false as never).compile();
      const app = await moduleRef.init();
      try {
        const hostMailer = app.get(MailerService);
        const sendMail = jest.spyOn(hostMailer, 'sendMail');
        const hostEvents = (hostMailer as unknown as { eventService: MailerEventService }).eventService;
        expect(hostEvents).toBeInstanceOf(MailerEventService);
        const emitted = jest.spyOn(hostEvents, 'emit');
        const address = `own-mailer.${Date.now()}@example.com`;
        await app.get(OtpService).issue({ email: address });
        await pollFor(() => own.messages.find((m) => JSON.stringify(m.parsed.to).includes(address)));
        expect(sendMail).not.toHaveBeenCalled();
        // The host's MailerEventService is global: handed to the module's MailerService, it would
        // carry every code mail (text and HTML) to the host's listeners (a "log each mail" one, say).
        expect(emitted).not.toHaveBeenCalled();
        expect(smtp.messages.some((m) => JSON.stringify(m.parsed.to).includes(address))).toBe(false);
      } finally {
        await app.close();
      }
    } finally {
      await own.close();
    }
  });
});
