import request from 'supertest';
import { canonicalEmail, OtpErasureService, OtpEvent, OtpEventBus, OtpNewDeviceNoticeMessage, OtpRetentionService, OtpService, OtpSignInNotifier } from '../src/otp';
import { OtpMailDispatcher } from '../src/otp/mail/outbox/otp-mail.dispatcher';
import { OtpSql } from '../src/otp/persistence/otp-sql';
import { makeTestCert, startSmtpServer, TestCert, TestSmtpServer } from './support/smtp-test-server';
import { pollFor, RELAXED_RATE_LIMITS } from './support/test-app';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { countStatements } from './support/statement-count';
import { dumpAllTables } from './support/table-dump';
import { testApp } from './support/test-app.builder';
import { TestResources } from './support/test-resources';

const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const FIREFOX_LINUX_NEWER = 'Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0';
const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const SAFARI_IOS = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

/** Who signs in: the client IP (sent as X-Forwarded-For, believed from loopback), browser and language. */
interface Client {
  ip: string;
  ua: string;
  lang?: string;
}

/** What a sign-in handed out: everything a notice must never contain. */
interface SignInSecrets {
  code: string;
  token: string;
  sessionToken: string;
}

/** The example app on the given environment, with sign-in helpers over HTTP. */
async function host(env: NodeJS.ProcessEnv, codeOf?: (challengeId: string, address: string) => Promise<string>) {
  const t = await testApp()
    .env({ TRUST_PROXY: 'loopback', APP_URL: 'https://app.example.test', MAIL_POLL_INTERVAL_MS: '50', ...RELAXED_RATE_LIMITS, ...env })
    .boot();
  const http = request(t.app.getHttpServer());
  const as = <T extends request.Test>(req: T, c: Client): T => {
    req.set('X-Forwarded-For', c.ip).set('User-Agent', c.ua);
    if (c.lang) req.set('Accept-Language', c.lang);
    return req;
  };
  /** Asks a login code, reads it, verifies it: the proof token. */
  async function otpToken(address: string, c: Client): Promise<{ code: string; token: string }> {
    const issued = await as(http.post('/auth/otp/challenges'), c).send({ email: address }).expect(202);
    const code = codeOf ? await codeOf(issued.body.challengeId, address) : await t.codeFor(issued.body.challengeId);
    const verified = await as(http.post(`/auth/otp/challenges/${issued.body.challengeId}/verify`), c).send({ code }).expect(200);
    return { code, token: verified.body.token };
  }
  /** Passwordless sign-in, or password plus code when `password` is given. */
  async function signIn(address: string, c: Client, password?: string): Promise<SignInSecrets> {
    const { code, token } = await otpToken(address, c);
    const res = await as(http.post(password ? '/accounts/sessions/password' : '/accounts/sessions'), c)
      .set('X-OTP-Token', token).send(password ? { email: address, password } : { email: address }).expect(201);
    return { code, token, sessionToken: res.body.sessionToken };
  }
  return { t, http, signIn };
}

describe('New-device sign-in notice (R19) on PostgreSQL', () => {
  let db: TestDatabase;
  let app: Awaited<ReturnType<typeof host>>;
  let otp: OtpService;
  let notifier: OtpSignInNotifier;
  const events: OtpEvent[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await host({ DATABASE_URL: db.url });
    otp = app.t.app.get(OtpService);
    notifier = app.t.app.get(OtpSignInNotifier);
    app.t.app.get(OtpEventBus).subscribe((e) => void events.push(e));
  });
  afterAll(async () => {
    await app?.t.close();
    await db?.drop();
  });

  let n = 0;
  const email = (who = 'device') => `${who}${++n}.${Date.now()}@example.com`;
  const noticesTo = (address: string) =>
    app.t.mailbox.notices().filter((m): m is OtpNewDeviceNoticeMessage & { receivedAt: Date } => m.kind === 'new-device-notice' && m.to === canonicalEmail(address));
  const recorded = (address: string) =>
    events.filter((e) => e.name === 'sign_in.recorded' && e.recipientIndex === otp.recipientIndex(address)).map((e) => e.detail);
  const outboxNotices = async (address: string) =>
    db.dataSource.query(`SELECT * FROM otp_mail_outbox WHERE kind = 'new-device-notice' AND recipient_index = $1`, [otp.recipientIndex(address)]);
  const deviceRows = async (address: string) =>
    db.dataSource.query(`SELECT * FROM otp_sign_in_devices WHERE recipient_index = $1`, [otp.recipientIndex(address)]);

  it('R19: a known device gets no notice: the first sign-in, then the same browser family and network (another host of the /24, a newer version), by code and by password + code', async () => {
    const address = email();
    const first = await app.signIn(address, { ip: '203.0.113.7', ua: FIREFOX_LINUX });
    await app.signIn(address, { ip: '203.0.113.99', ua: FIREFOX_LINUX_NEWER });
    await app.http.post('/accounts/password').set('Authorization', `Bearer ${first.sessionToken}`).send({ password: 'correct horse battery staple' }).expect(204);
    await app.signIn(address, { ip: '203.0.113.200', ua: FIREFOX_LINUX }, 'correct horse battery staple');

    expect(recorded(address)).toEqual([
      { device: 'first', notice: 'none' }, { device: 'known', notice: 'none' }, { device: 'known', notice: 'none' },
    ]);
    expect(await outboxNotices(address)).toEqual([]);
    expect(await deviceRows(address)).toHaveLength(1);
    await app.t.app.get(OtpMailDispatcher).whenIdle();
    expect(noticesTo(address)).toEqual([]);
  });

  it('R19: a new browser gets a notice through the outbox with time, browser and network (in the reader\'s language), and nothing of the code, token or session', async () => {
    const address = email();
    const before = Date.now();
    await app.signIn(address, { ip: '203.0.113.7', ua: FIREFOX_LINUX });
    const secrets = await app.signIn(address, { ip: '203.0.113.7', ua: CHROME_WINDOWS, lang: 'pt-BR,pt;q=0.9,en;q=0.5' });

    const notice = await pollFor(() => noticesTo(address)[0]);
    expect(notice).toMatchObject({ kind: 'new-device-notice', to: address, locale: 'pt-BR', browser: 'Chrome on Windows', network: '203.0.113.0/24' });
    expect(notice.happenedAt.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(notice.happenedAt.getTime()).toBeLessThanOrEqual(Date.now());
    const text = JSON.stringify(notice);
    for (const secret of [secrets.code, secrets.token, secrets.sessionToken, '203.0.113.7', CHROME_WINDOWS]) expect(text).not.toContain(secret);

    expect(recorded(address)).toEqual([{ device: 'first', notice: 'none' }, { device: 'new', notice: 'queued' }]);
    const queued = events.filter((e) => e.name === 'notice.queued' && e.recipientIndex === otp.recipientIndex(address));
    expect(queued).toEqual([expect.objectContaining({ outcome: 'success', detail: { kind: 'new-device-notice', reason: null } })]);
    const row = await pollFor(async () => {
      const [r] = await outboxNotices(address);
      return r?.status === 'delivered' ? r : undefined;
    });
    expect(row).toMatchObject({ challenge_id: null, payload_ciphertext: null, purpose: 'sign-in' });
    expect(await deviceRows(address)).toHaveLength(2);
  });

  it('R19: a new network gets a notice (by password + code too); IPv6 is grouped by /48', async () => {
    const address = email();
    const first = await app.signIn(address, { ip: '2001:db8:1:2::5', ua: SAFARI_IOS });
    await app.http.post('/accounts/password').set('Authorization', `Bearer ${first.sessionToken}`).send({ password: 'correct horse battery staple' }).expect(204);
    await app.signIn(address, { ip: '2001:db8:1:ffff::9', ua: SAFARI_IOS }, 'correct horse battery staple');
    await app.signIn(address, { ip: '2001:db8:2::1', ua: SAFARI_IOS }, 'correct horse battery staple');

    expect(recorded(address).map((d) => d?.device)).toEqual(['first', 'known', 'new']);
    const notice = await pollFor(() => noticesTo(address)[0]);
    expect(notice).toMatchObject({ browser: 'Safari on iOS', network: '2001:db8:2::/48' });
    expect(noticesTo(address)).toHaveLength(1);
  });

  it('R19: notices are rate-limited per address; a device held back stays unknown and is announced once the interval has passed', async () => {
    const address = email();
    const other = email('other');
    const signedIn = (who: string, ip: string, userAgent: string) => notifier.signedIn({ email: who, ip, userAgent });
    expect(await signedIn(address, '198.51.100.1', FIREFOX_LINUX)).toEqual({ device: 'first', notice: 'none' });
    expect(await signedIn(address, '198.51.100.1', CHROME_WINDOWS)).toEqual({ device: 'new', notice: 'queued' });
    expect(await signedIn(address, '192.0.2.1', CHROME_WINDOWS)).toEqual({ device: 'new', notice: 'rate_limited' });
    expect(await signedIn(address, '192.0.2.1', CHROME_WINDOWS)).toEqual({ device: 'new', notice: 'rate_limited' });
    // Another address has a gate of its own.
    expect(await signedIn(other, '198.51.100.1', FIREFOX_LINUX)).toEqual({ device: 'first', notice: 'none' });
    expect(await signedIn(other, '198.51.100.1', CHROME_WINDOWS)).toEqual({ device: 'new', notice: 'queued' });

    const held = events.filter((e) => e.name === 'notice.queued' && e.recipientIndex === otp.recipientIndex(address) && e.outcome === 'failure');
    expect(held.map((e) => e.detail)).toEqual([
      { kind: 'new-device-notice', reason: 'rate_limited' }, { kind: 'new-device-notice', reason: 'rate_limited' },
    ]);
    expect(await outboxNotices(address)).toHaveLength(1);

    // An hour later (moved on the database clock) the held-back device is announced, then known.
    await db.dataSource.query(`UPDATE otp_mail_notice_gates SET last_queued_at = now() - interval '61 minutes' WHERE recipient_index = $1`, [otp.recipientIndex(address)]);
    expect(await signedIn(address, '192.0.2.1', CHROME_WINDOWS)).toEqual({ device: 'new', notice: 'queued' });
    expect(await signedIn(address, '192.0.2.1', CHROME_WINDOWS)).toEqual({ device: 'known', notice: 'none' });
    await pollFor(() => (noticesTo(address).length === 2 ? true : undefined));
    expect(noticesTo(address).map((m) => m.network).sort()).toEqual(['192.0.2.0/24', '198.51.100.0/24']);
  });

  it('R19: concurrent sign-ins from new devices of one address queue one notice', async () => {
    const address = email();
    await notifier.signedIn({ email: address, ip: '198.51.100.1', userAgent: FIREFOX_LINUX });
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => notifier.signedIn({ email: address, ip: `192.0.2.${i}`, userAgent: i % 2 ? CHROME_WINDOWS : SAFARI_IOS })),
    );
    expect(outcomes.filter((o) => o.notice === 'queued')).toHaveLength(1);
    expect(await outboxNotices(address)).toHaveLength(1);
  });

  it('R19: sign-ins of many addresses at once are recorded together, each with the outcome it has alone (first, known, new with a notice, held back)', async () => {
    const addresses = Array.from({ length: 24 }, () => email('batch'));
    // Before: a quarter never signed in, the others once from Firefox on Linux; a quarter of those already got a notice.
    for (const [i, a] of addresses.entries()) if (i % 4 !== 0) await notifier.signedIn({ email: a, ip: '198.51.100.1', userAgent: FIREFOX_LINUX });
    for (const [i, a] of addresses.entries()) if (i % 4 === 3) await notifier.signedIn({ email: a, ip: '203.0.113.9', userAgent: SAFARI_IOS });
    const statements = countStatements(app.t.app.get(OtpSql));
    let outcomes;
    try {
      outcomes = await Promise.all(addresses.map((a, i) => notifier.signedIn({ email: a, ip: '198.51.100.1', userAgent: i % 4 === 1 ? FIREFOX_LINUX : CHROME_WINDOWS })));
    } finally {
      statements.restore();
    }
    expect(outcomes).toEqual(addresses.map((_, i) => [
      { device: 'first', notice: 'none' }, { device: 'known', notice: 'none' }, { device: 'new', notice: 'queued' }, { device: 'new', notice: 'rate_limited' },
    ][i % 4]));
    const records = statements.count('sign_in_record');
    expect(records).toBeGreaterThan(0);
    expect(records).toBeLessThan(addresses.length / 2);
    for (const [i, a] of addresses.entries()) {
      expect(await outboxNotices(a)).toHaveLength(i % 4 === 2 || i % 4 === 3 ? 1 : 0);
      expect(await deviceRows(a)).toHaveLength([1, 1, 2, 2][i % 4]);
    }
  });

  it('R19: nothing stores the plain address, the full IP, the network or the user agent for it; device rows hold the blind index and a keyed digest', async () => {
    const address = email('Private.Person');
    const ua = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 R19canary';
    await notifier.signedIn({ email: address, ip: '198.51.100.77', userAgent: FIREFOX_LINUX });
    await notifier.signedIn({ email: address, ip: '203.0.113.177', userAgent: ua });
    await pollFor(() => noticesTo(address)[0]);

    const rows = await deviceRows(address);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(Object.keys(row).sort()).toEqual(['device_digest', 'last_seen_at', 'recipient_index']);
      expect(row.device_digest).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    const everything = (await dumpAllTables(db)).toLowerCase();
    expect(everything).not.toContain(address.toLowerCase());
    // The audit trail keeps the request's IP and user agent by design (R39, truncated after 30 days); nothing else does.
    const tables: { table_name: string }[] = await db.dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE 'otp_audit%'`,
    );
    for (const { table_name } of tables) {
      const dump = JSON.stringify(await db.dataSource.query(`SELECT * FROM "${table_name}"`));
      for (const fact of ['198.51.100.77', '203.0.113.177', '198.51.100.0', '203.0.113.0', 'R19canary', 'Firefox on Linux']) {
        expect({ table_name, found: dump.includes(fact) ? fact : null }).toEqual({ table_name, found: null });
      }
    }
  });

  it('R19: erasure (otp:erase) removes the devices, gate and notices of an address; the purge forgets devices unseen for the remember period', async () => {
    const erased = email('erased');
    const kept = email('kept');
    await notifier.signedIn({ email: erased, ip: '198.51.100.1', userAgent: FIREFOX_LINUX });
    await notifier.signedIn({ email: erased, ip: '198.51.100.1', userAgent: CHROME_WINDOWS });
    await notifier.signedIn({ email: kept, ip: '198.51.100.1', userAgent: FIREFOX_LINUX });
    const index = otp.recipientIndex(erased);

    const report = await app.t.app.get(OtpErasureService).eraseEmail(erased);
    expect(report).toMatchObject({ otp_sign_in_devices: 2, otp_mail_notice_gates: 1, otp_mail_outbox: 1 });
    for (const table of ['otp_sign_in_devices', 'otp_mail_notice_gates', 'otp_mail_outbox']) {
      expect(await db.dataSource.query(`SELECT 1 FROM ${table} WHERE recipient_index = $1`, [index])).toEqual([]);
    }
    expect(await deviceRows(kept)).toHaveLength(1);

    // 181 days without a sign-in: the device is forgotten (the address starts over, silently) and purged.
    const stale = email('stale');
    await notifier.signedIn({ email: stale, ip: '198.51.100.1', userAgent: FIREFOX_LINUX });
    await db.dataSource.query(`UPDATE otp_sign_in_devices SET last_seen_at = now() - interval '181 days' WHERE recipient_index = ANY($1)`,
      [[otp.recipientIndex(stale), otp.recipientIndex(kept)]]);
    expect(await notifier.signedIn({ email: stale, ip: '198.51.100.1', userAgent: CHROME_WINDOWS })).toEqual({ device: 'first', notice: 'none' });
    const purge = await app.t.app.get(OtpRetentionService).purge();
    expect(purge.otp_sign_in_devices).toBeGreaterThanOrEqual(2);
    expect(await deviceRows(kept)).toEqual([]);
    const left = await deviceRows(stale);
    expect(left).toHaveLength(1); // the Chrome sign-in of today
    expect(await notifier.signedIn({ email: stale, ip: '198.51.100.1', userAgent: CHROME_WINDOWS })).toEqual({ device: 'known', notice: 'none' });
  });
});

describe('New-device sign-in notice (R19) as it reaches the relay, and on Fastify', () => {
  let db: TestDatabase;
  let cert: TestCert;
  let smtp: TestSmtpServer;
  const open = new TestResources();

  beforeAll(async () => {
    db = await createTestDatabase();
    cert = makeTestCert();
    smtp = await startSmtpServer({ key: cert.key, cert: cert.cert });
  });
  // Each test's app closes with it: a dispatcher left running on the shared database claims the next
  // test's mail and sends it to its own port (the relay), so the next app's mailbox never sees it.
  afterEach(() => open.close());
  afterAll(async () => {
    await smtp?.close();
    await db?.drop();
    cert?.remove();
  });

  const mailsTo = (address: string) => smtp.messages.filter((m) => JSON.stringify(m.parsed.to ?? '').includes(address));

  it('R19/R36: the mail names the time in UTC, the browser, the network and APP_URL, and carries no code, token, session, full IP or link', async () => {
    const address = `relay.${Date.now()}@example.com`;
    const read = new Set<unknown>();
    /** The next code mail to `to` not read yet (one sign-in at a time). */
    const codeOf = async (_challengeId: string, to: string) => {
      const mail = await pollFor(() => mailsTo(to).find((m) => !read.has(m) && /Your code: \d{6}/.test(m.parsed.text ?? '')));
      read.add(mail);
      return /Your code: (\d{6})/.exec(mail.parsed.text ?? '')![1];
    };
    const relay = await host({ DATABASE_URL: db.url, SMTP_URL: smtp.url('smtp'), SMTP_CA_FILE: cert.certFile, MAIL_FROM: '"Example Bank" <otp@example.test>' }, codeOf);
    open.app(relay.t);
    const one = await relay.signIn(address, { ip: '203.0.113.7', ua: FIREFOX_LINUX });
    const two = await relay.signIn(address, { ip: '203.0.113.8', ua: CHROME_WINDOWS });

    const notice = await pollFor(() => mailsTo(address).find((m) => /new sign-in/.test(m.parsed.subject ?? '')));
    expect(notice.secure).toBe(true);
    expect(notice.parsed.subject).toBe('Example Bank: new sign-in to your account');
    expect(notice.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    const text = notice.parsed.text ?? '';
    const html = String(notice.parsed.html);
    for (const part of [text, html]) {
      expect(part).toMatch(/When: .+ UTC\./);
      expect(part).toContain('Browser: Chrome on Windows.');
      expect(part).toContain('network 203.0.113.0/24');
      expect(part).toContain('go to https://app.example.test/ yourself');
      expect(part).toContain('Only ever enter codes at app.example.test.');
      for (const secret of [one.code, one.token, one.sessionToken, two.code, two.token, two.sessionToken, '203.0.113.8', CHROME_WINDOWS]) {
        expect(part).not.toContain(secret);
      }
    }
    expect(html).not.toMatch(/<a\s|href=/i);
    expect(notice.raw.toString('utf8')).not.toContain(two.code);
  });

  it('R19: the example host reports sign-ins on Fastify too', async () => {
    const address = `fastify.${Date.now()}@example.com`;
    const fastify = await host({ DATABASE_URL: db.url, HTTP_ADAPTER: 'fastify' });
    open.app(fastify.t);
    const events: OtpEvent[] = [];
    fastify.t.app.get(OtpEventBus).subscribe((e) => void events.push(e));
    await fastify.signIn(address, { ip: '203.0.113.7', ua: FIREFOX_LINUX });
    await fastify.signIn(address, { ip: '198.51.100.7', ua: FIREFOX_LINUX, lang: 'de-AT' });
    expect(events.filter((e) => e.name === 'sign_in.recorded').map((e) => e.detail)).toEqual([
      { device: 'first', notice: 'none' }, { device: 'new', notice: 'queued' },
    ]);
    const notice = await pollFor(() => fastify.t.mailbox.notices().find((m) => m.to === address));
    expect(notice).toMatchObject({ kind: 'new-device-notice', locale: 'de-AT', network: '198.51.100.0/24', browser: 'Firefox on Linux' });
  });
});
