import { authenticate } from 'mailauth';
import { createTransport } from 'nodemailer';
import { OtpEvent, OtpEventBus, OtpService } from '../../src/otp';
import { makeDkimKey, makeTestCert, startSmtpServer, TestCert, TestSmtpServer } from '../support/smtp-test-server';
import { pollFor, TestApp } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { dumpAllTables, holdsCode } from '../support/table-dump';
import { testApp } from '../support/test-app.builder';
import { TestResources } from '../support/test-resources';

const FROM = '"Example Bank" <otp@example.test>';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

describe('Mail transport: TLS enforced, DKIM signed (real SMTP servers on 127.0.0.1)', () => {
  let db: TestDatabase;
  let cert: TestCert;
  let stranger: TestCert;
  const open = new TestResources();

  beforeAll(async () => {
    db = await createTestDatabase();
    cert = makeTestCert();
    stranger = makeTestCert('stranger');
  });
  afterEach(() => open.close()); // apps first, then the servers they talk to
  afterAll(async () => {
    await db?.drop();
    cert?.remove();
    stranger?.remove();
  });

  let n = 0;
  const email = () => `mail${++n}.${Date.now()}@example.com`;

  async function server(options: Parameters<typeof startSmtpServer>[0]): Promise<TestSmtpServer> {
    return open.server(await startSmtpServer(options));
  }
  async function app(env: NodeJS.ProcessEnv): Promise<{ t: TestApp; otp: OtpService; events: OtpEvent[] }> {
    const t = await testApp()
      .database(db)
      .env({ SMTP_CA_FILE: cert.certFile, MAIL_FROM: FROM, APP_URL: 'https://app.example.test', MAIL_POLL_INTERVAL_MS: '50', ...env })
      .closedBy(open)
      .boot();
    const events: OtpEvent[] = [];
    t.app.get(OtpEventBus).subscribe((e) => void events.push(e));
    return { t, otp: t.app.get(OtpService), events };
  }
  const outboxRow = async (challengeId: string) =>
    (await db.dataSource.query(`SELECT * FROM otp_mail_outbox WHERE challenge_id = $1`, [challengeId]))[0];

  it('R31/R36: delivers over required STARTTLS to a self-signed server trusted through SMTP_CA_FILE, with every anti-phishing line and no code in the subject', async () => {
    const smtp = await server({ key: cert.key, cert: cert.cert });
    const { otp, events } = await app({ SMTP_URL: smtp.url('smtp') });
    const address = email();
    const c = await otp.issue({ email: address, ip: '203.0.113.7', userAgent: FIREFOX });
    const mail = await pollFor(() => smtp.messages.find((m) => m.parsed.to && JSON.stringify(m.parsed.to).includes(address)));
    const text = mail.parsed.text ?? '';
    const html = String(mail.parsed.html);
    const code = /Your code: (\d{6})/.exec(text)?.[1] as string;
    await expect(otp.verify({ challengeId: c.challengeId, code })).resolves.toBeDefined();

    expect(mail.secure).toBe(true);
    expect(mail.parsed.subject).toBe('Example Bank: your sign-in code');
    expect(mail.parsed.subject).not.toContain(code);
    for (const part of [text, html]) {
      expect(part).toContain(code);
      expect(part).toContain('Sign in to Example Bank');
      expect(part).toContain('It is valid for 10 minutes, until');
      expect(part).toContain('Enter this code only at app.example.test.');
      expect(part).toContain('We will never ask you for this code');
      expect(part).toContain('If you did not ask for this code, ignore this mail.');
      expect(part).toContain('203.0.113.7 (Firefox on Linux)');
      expect(part).toMatch(/Requested at about \w{3} \d{1,2}, \d{4}, \d{1,2}:\d{2}.* UTC\./);
    }
    const preheader = /<div style="display:none[^>]*>([^<]*)<\/div>/.exec(html)?.[1];
    expect(preheader).toContain('Valid for 10 minutes');
    expect(preheader).not.toContain(code);
    expect(html).not.toMatch(new RegExp(`href=[^>]*${code}`));

    const row = await pollFor(async () => ((await outboxRow(c.challengeId))?.status === 'delivered' ? outboxRow(c.challengeId) : undefined));
    expect(mail.parsed.from?.value[0]).toMatchObject({ name: 'Example Bank', address: 'otp@example.test' });
    expect(mail.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    expect(mail.parsed.messageId).toBe(`<${row.id}@example.test>`);
    expect(mail.parsed.headers.get('x-entity-ref-id')).toBe(row.id);
    expect(row).toMatchObject({ status: 'delivered', payload_ciphertext: null, attempts: 1, last_error: null });
    expect(row.server_response).toMatch(/^250 .*queued as T\d+/);

    const delivered = events.find((e) => e.name === 'mail.delivered' && e.challengeId === c.challengeId);
    expect(delivered).toMatchObject({ outcome: 'success', purpose: 'login', recipientIndex: otp.recipientIndex(address) });
    expect(JSON.stringify(events)).not.toContain(address);
    expect(JSON.stringify(events)).not.toContain(code);

    // R4/R30: after delivery no table holds the code or the address in clear.
    const dump = await dumpAllTables(db);
    expect(holdsCode(dump, code)).toBe(false);
    expect(dump.toLowerCase()).not.toContain(address.toLowerCase());
  });

  it("R36: a transfer mail over SMTP shows its declared amount and payee, typed and labelled in the reader's language", async () => {
    const smtp = await server({ key: cert.key, cert: cert.cert });
    const { otp } = await app({ SMTP_URL: smtp.url('smtp') });
    const address = email();
    await otp.issue({ email: address, purpose: 'transfer', context: { amount: 125.5, to: 'alice' }, locale: 'de' });
    const mail = await pollFor(() => smtp.messages.find((m) => JSON.stringify(m.parsed.to).includes(address)));
    const amount = new Intl.NumberFormat('de', { style: 'currency', currency: 'EUR' }).format(125.5);
    expect(mail.parsed.text).toContain(`Betrag: ${amount}`);
    expect(mail.parsed.text).toContain('Empfänger: alice');
    expect(mail.parsed.text).not.toMatch(/amount|125\.5\b/);
  });

  it('R31: in production the app refuses to start without SMTP_URL, with a clear message', async () => {
    await expect(testApp()
      .database(db)
      .env({ NODE_ENV: 'production', TLS_TERMINATED_BY_PROXY: 'true', SMTP_URL: '' })
      .boot()).rejects.toThrow(/required in production and not set: SMTP_URL \(.*smtps:\/\/host:465/);
  });

  it('R31: delivers over implicit TLS (smtps://)', async () => {
    const smtp = await server({ secure: true, key: cert.key, cert: cert.cert });
    const { otp } = await app({ SMTP_URL: smtp.url('smtps') });
    const address = email();
    await otp.issue({ email: address });
    const mail = await pollFor(() => smtp.messages.find((m) => JSON.stringify(m.parsed.to).includes(address)));
    expect(mail.secure).toBe(true);
  });

  const refusals: [string, () => Parameters<typeof startSmtpServer>[0]][] = [
    ['offers no STARTTLS', () => ({ disabledCommands: ['STARTTLS'], key: cert.key, cert: cert.cert })],
    ['shows an untrusted certificate', () => ({ key: stranger.key, cert: stranger.cert })],
    ['speaks TLS 1.1 at most', () => ({ key: cert.key, cert: cert.cert, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' })],
  ];
  it.each(refusals)('R31: a server that %s gets no message: no MAIL FROM, no DATA, the failure is recorded as tls and retried', async (_name, options) => {
    const smtp = await server(options());
    const { otp, events } = await app({ SMTP_URL: smtp.url('smtp') });
    const c = await otp.issue({ email: email() });
    const row = await pollFor(async () => {
      const r = await outboxRow(c.challengeId);
      return r?.last_error ? r : undefined;
    });
    expect(row).toMatchObject({ status: 'pending', last_error: 'tls' });
    expect(smtp.connections).toBeGreaterThanOrEqual(1);
    expect(smtp.mailFromCount).toBe(0);
    expect(smtp.dataCount).toBe(0);
    expect(smtp.messages).toHaveLength(0);
    // Rows of earlier tests (still pending, sealed under their apps' keys) may be retried too: look for this one's.
    const retried = await pollFor(() => events.find((e) => e.name === 'mail.retried' && e.challengeId === c.challengeId));
    expect(retried).toMatchObject({ detail: expect.objectContaining({ errorClass: 'tls' }) });
  });

  it('development only: SMTP_ALLOW_PLAIN_DEV lets a local catcher without TLS (Mailpit) receive mail', async () => {
    const smtp = await server({ disabledCommands: ['STARTTLS'] });
    const { otp } = await app({ SMTP_URL: smtp.url('smtp'), SMTP_ALLOW_PLAIN_DEV: 'true' });
    const address = email();
    await otp.issue({ email: address });
    const mail = await pollFor(() => smtp.messages.find((m) => JSON.stringify(m.parsed.to).includes(address)));
    expect(mail.secure).toBe(false);
  });

  it('the TLS 1.1 server above is genuine: a client that allows TLS 1.1 gets through (so our refusal is our policy)', async () => {
    const smtp = await server({ key: cert.key, cert: cert.cert, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' });
    const weak = createTransport({
      host: '127.0.0.1', port: smtp.port, requireTLS: true,
      tls: { ca: cert.cert, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' },
    });
    await weak.sendMail({ from: 'a@example.test', to: 'b@example.test', subject: 'x', text: 'x' });
    weak.close();
    // The server cannot negotiate above TLS 1.1 (maxVersion), and the message came over TLS.
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0].secure).toBe(true);
  });

  it('R33/R34: the received message carries a DKIM signature that mailauth verifies as pass, aligned with From (DMARC pass)', async () => {
    const key = makeDkimKey(2048, cert.dir);
    const smtp = await server({ key: cert.key, cert: cert.cert });
    const { otp } = await app({
      SMTP_URL: smtp.url('smtp'), DKIM_DOMAIN: 'example.test', DKIM_SELECTOR: 'otp2026', DKIM_PRIVATE_KEY_FILE: key.file,
    });
    const address = email();
    await otp.issue({ email: address });
    const mail = await pollFor(() => smtp.messages.find((m) => JSON.stringify(m.parsed.to).includes(address)));
    const records: Record<string, string> = {
      'otp2026._domainkey.example.test': key.txt,
      '_dmarc.example.test': 'v=DMARC1; p=reject',
    };
    const resolver = async (name: string, rr: string) => {
      if (rr === 'TXT' && records[name]) return [[records[name]]];
      throw Object.assign(new Error(`no ${rr} for ${name}`), { code: 'ENOTFOUND' });
    };
    const result = await authenticate(mail.raw, { resolver, ip: '127.0.0.1', helo: 'relay.example.test', sender: 'otp@example.test', mta: 'mx.example.test' } as never);
    const dkim = result.dkim.results[0];
    expect(dkim.status.result).toBe('pass');
    expect(dkim.signingDomain).toBe('example.test');
    expect(dkim.status.aligned).toBe('example.test');
    expect((result.dmarc as { status: { result: string } }).status.result).toBe('pass');
    expect((dkim as unknown as { algo: string }).algo).toBe('rsa-sha256');
  });
});
