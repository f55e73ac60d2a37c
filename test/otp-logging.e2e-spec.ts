import { INestApplication, Logger } from '@nestjs/common';
import request from 'supertest';
import type { TestDatabase } from './support/test-database';
import { logSink, pollFor, RELAXED_RATE_LIMITS, testKeyLine } from './support/test-app';
import { BootedTestApp, testApp } from './support/test-app.builder';
import { maskEmail, maskText } from '../src/otp/logging/otp-log-redaction';
import { DevMailboxMailer } from '../src/otp/mail/dev-mailbox.mailer';

describe('logging: structured JSON with central redaction (R37, R38)', () => {
  let db: TestDatabase;
  let t: BootedTestApp;
  let app: INestApplication;
  let mailbox: DevMailboxMailer;
  const chunks: string[] = [];
  const keys = testKeyLine('logk');
  const encryptionKeys = testKeyLine('loge');
  const adminToken = 'admin-' + Math.random().toString(36).slice(2);

  beforeAll(async () => {
    const sink = logSink(chunks);
    const env = { OTP_KEYS: keys, OTP_ENCRYPTION_KEYS: encryptionKeys, OTP_ADMIN_TOKEN: adminToken, LOG_LEVEL: 'debug', ...RELAXED_RATE_LIMITS };
    t = await testApp().withDatabase().env(env).logTo(sink).boot();
    db = t.db;
    app = t.app;
    mailbox = t.mailbox;
  });
  afterAll(async () => t?.close());

  it('maskEmail and maskText keep the first letter and the domain only', () => {
    expect(maskEmail('jane.doe@example.com')).toBe('j***@example.com');
    expect(maskText('to Jane <jane.doe@mail.example.org>, Bearer abc.def-123')).toBe('to Jane <j***@mail.example.org>, Bearer [redacted]');
  });

  it('R37/R38: full flows leave no code, token, key, credential header or unmasked address in any log line', async () => {
    const http = () => request(app.getHttpServer());
    const bearer = 'Bearer sekrit-bearer-token-value';
    const otpToken = 'otp-proof-token-value-xyz';
    const cookie = 'sid=cookie-secret-value';
    const addresses = ['jane.doe@example.com', 'John.Smith+tag@example.org'];
    const codes: string[] = [];
    for (const email of addresses) {
      const issued = await http().post('/auth/otp/challenges').set('Authorization', bearer).set('X-OTP-Token', otpToken).set('Cookie', cookie)
        .set('X-Request-Id', 'log-req-1').send({ email }).expect(202);
      expect(issued.headers['x-request-id']).toBe('log-req-1');
      const id = issued.body.challengeId as string;
      const code = await pollFor(() => mailbox.list().find((m) => m.challengeId === id)?.code);
      codes.push(code);
      const wrong = code === '000000' ? '000001' : '000000';
      await http().post(`/auth/otp/challenges/${id}/verify`).set('X-OTP-Token', otpToken).send({ code: wrong }).expect(401);
      await http().post(`/auth/otp/challenges/${id}/verify`).set('Authorization', bearer).send({ code }).expect(200);
      await http().post(`/auth/otp/challenges/${id}/resend`).expect(401);
    }
    await http().post('/admin/otp/audit/query').set('Authorization', `Bearer ${adminToken}`).send({ email: addresses[0] }).expect(200);
    await http().post('/auth/otp/challenges').set('content-type', 'application/json').send('{"email": "broken@example.com"').expect(400);
    // What a careless caller might log: the redaction must hold there too.
    const logger = new Logger('CarelessCaller');
    logger.warn(`delivery to ${addresses[0]} failed, code ${codes[0]} not sent`.replace(` code ${codes[0]}`, ''));
    logger.log({ msg: 'debugging', code: codes[0], token: otpToken, key: keys, email: addresses[1], smtp: { auth: { user: 'u', pass: 'smtp-pass-value' } } });
    logger.error(new Error(`could not reach ${addresses[1]}`));
    await pollFor(() => (chunks.join('').includes('CarelessCaller') && chunks.join('').includes('could not reach') ? true : undefined));

    const output = chunks.join('');
    const lines = output.trim().split('\n');
    expect(lines.length).toBeGreaterThan(15);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow(); // JSON in every mode
    for (const code of codes) expect(output).not.toMatch(new RegExp(`(^|[^0-9])${code}([^0-9]|$)`));
    for (const secret of ['sekrit-bearer-token-value', otpToken, 'cookie-secret-value', 'smtp-pass-value', adminToken, keys.split(':')[1], encryptionKeys.split(':')[1]]) {
      expect(output).not.toContain(secret);
    }
    for (const address of addresses) expect(output.toLowerCase()).not.toContain(address.toLowerCase());
    expect(output).not.toMatch(/broken@example\.com/);
    expect(output).toContain('j***@example.com');
    expect(output).toContain('J***@example.org');

    const requestLogs = lines.map((l) => JSON.parse(l)).filter((l) => l.req && l.res);
    expect(requestLogs.length).toBeGreaterThanOrEqual(8);
    expect(requestLogs.some((l) => l.requestId === 'log-req-1')).toBe(true);
    for (const l of requestLogs) {
      expect(typeof l.time).toBe('string');
      expect(l.time).toMatch(/Z$/);
      expect(l.req.headers.authorization).toBeUndefined();
      expect(l.req.headers.cookie).toBeUndefined();
    }
  });

  it('R38: addresses in request paths are masked in the request logs also when percent-encoded, once or twice', async () => {
    const http = () => request(app.getHttpServer());
    const paths = [
      '/auth/otp/challenges/path.victim1@example.com/resend',
      '/auth/otp/challenges/path.victim2%40example.com/resend',
      '/auth/otp/challenges/path.victim3%2540example.com/resend',
      '/accounts/path%2Evictim4%40example%2Ecom',
      '/nowhere/%70ath.victim5%40example.com',
      '/nowhere/path.victim6%252540example.com',
    ];
    const from = chunks.length;
    for (const path of paths) await http().post(path);
    await pollFor(() => (chunks.slice(from).filter((c) => c.includes('"req"')).length >= paths.length ? true : undefined));
    const output = chunks.slice(from).join('');
    const urls = output.trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.req).map((l) => l.req.url as string);
    expect(urls.length).toBeGreaterThanOrEqual(paths.length);
    for (let i = 1; i <= paths.length; i++) expect(output).not.toMatch(new RegExp(`ath(\\.|%2E)victim${i}`, 'i'));
    expect(urls.filter((u) => /p\*\*\*@example\.com/.test(u)).length).toBeGreaterThanOrEqual(paths.length);
  });
});
