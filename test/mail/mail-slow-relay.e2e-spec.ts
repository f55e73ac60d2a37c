import { OtpEvent, OtpEventBus, OtpService } from '../../src/otp';
import { makeTestCert, TestCert, TestSmtpServer } from '../support/smtp-test-server';
import { pollFor, RELAXED_RATE_LIMITS, testKeyLine } from '../support/test-app';
import { testApp } from '../support/test-app.builder';
import { TestResources } from '../support/test-resources';
import { OtpMailDispatcher } from '../../src/otp/mail/outbox/otp-mail.dispatcher';

/**
 * A relay slower than the dispatcher's send timeout (half the lease: 30 s with MAIL_LEASE_SECONDS=60):
 * it answers MAIL FROM, RCPT TO and the end of DATA each after a pause shorter than nodemailer's idle
 * timeout (30 s), so the transaction as a whole takes longer. Each scenario has its own database,
 * relay and app; they run side by side to keep the suite near 35 s.
 */
describe('Mail outbox against a relay slower than the send timeout (PostgreSQL, real SMTP)', () => {
  let cert: TestCert;
  const open = new TestResources();

  beforeAll(() => {
    cert = makeTestCert();
  });
  afterAll(async () => {
    await open.close();
    cert?.remove();
  }, 90_000);

  async function scenario(pauseMs: number, env: NodeJS.ProcessEnv = {}) {
    const t = await testApp()
      .withDatabase()
      .withSmtp({ key: cert.key, cert: cert.cert }, 0, { beforeAnswer: () => new Promise((r) => setTimeout(r, pauseMs)) })
      .env({ SMTP_CA_FILE: cert.certFile, MAIL_FROM: 'otp@example.test', APP_URL: 'https://app.example.test', MAIL_POLL_INTERVAL_MS: '50', MAIL_RETRY_BASE_MS: '50', MAIL_LEASE_SECONDS: '60', OTP_KEYS: testKeyLine('k1'), OTP_ENCRYPTION_KEYS: testKeyLine('e1'), ...RELAXED_RATE_LIMITS, ...env })
      .closedBy(open) // the app closes before its relay, the relay before the database
      .boot();
    const { db, smtp } = t;
    const events: OtpEvent[] = [];
    t.app.get(OtpEventBus).subscribe((e) => void events.push(e));
    const rows = async (ids: string[]) =>
      (await db.dataSource.query(`SELECT id, challenge_id, status, last_error, claimed_until IS NOT NULL AS claimed FROM otp_mail_outbox WHERE challenge_id = ANY($1::uuid[])`, [ids])) as
        { id: string; challenge_id: string; status: string; last_error: string | null; claimed: boolean }[];
    return { smtp, t, otp: t.app.get(OtpService), dispatcher: t.app.get(OtpMailDispatcher), events, rows };
  }
  const refOf = (m: TestSmtpServer['messages'][number]) => m.parsed.headers.get('x-entity-ref-id') as string;
  const settled = (s: Awaited<ReturnType<typeof scenario>>, ids: string[]) =>
    pollFor(async () => ((await s.rows(ids)).every((r) => r.status !== 'pending') ? true : undefined), 55_000).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(await s.rows(ids))}, ${s.smtp.dataCount} DATA`);
    });

  it('a message the relay accepts after the send timeout is recorded once and never re-sent; a queued message is checked again when a connection is free (no mail for a challenge superseded meanwhile)', async () => {
    const [late, queued] = await Promise.all([
      scenario(11_000),
      scenario(5_000, { MAIL_SMTP_CONNECTIONS: '1' }),
    ]);

    // 1. One message whose transaction takes 33 s: past the 30 s send timeout, within the lease.
    const slow = await late.otp.issue({ email: 'slow@example.com' });

    // 2. One connection: the first message holds it for 15 s; a challenge issued meanwhile waits for it,
    //    then is superseded by a newer one for the same address before the connection is free.
    const first = await queued.otp.issue({ email: 'first@example.com' });
    await pollFor(() => (queued.smtp.mailFromCount === 1 ? true : undefined));
    const old = await queued.otp.issue({ email: 'twice@example.com' });
    // The old challenge's row is claimed (and waits for the connection) before it is superseded.
    await pollFor(async () => ((await queued.rows([old.challengeId]))[0]?.claimed ? true : undefined));
    const current = await queued.otp.issue({ email: 'twice@example.com' });

    await Promise.all([settled(late, [slow.challengeId]), settled(queued, [first.challengeId, old.challengeId, current.challengeId])]);
    await Promise.all([late.dispatcher.whenIdle(), queued.dispatcher.whenIdle()]);

    expect(late.smtp.dataCount).toBe(1);
    expect((await late.rows([slow.challengeId]))[0].status).toBe('delivered');
    expect(late.events.filter((e) => e.name === 'mail.retried')).toEqual([]);

    const byChallenge = Object.fromEntries((await queued.rows([first.challengeId, old.challengeId, current.challengeId])).map((r) => [r.challenge_id, r]));
    expect(byChallenge[first.challengeId].status).toBe('delivered');
    expect(byChallenge[old.challengeId]).toMatchObject({ status: 'abandoned', last_error: 'challenge_ended' });
    expect(byChallenge[current.challengeId].status).toBe('delivered');
    expect(queued.smtp.dataCount).toBe(2);
    expect(queued.smtp.messages.map(refOf).sort()).toEqual([byChallenge[first.challengeId].id, byChallenge[current.challengeId].id].sort());
    expect(queued.events.filter((e) => e.name === 'mail.retried')).toEqual([]);
  }, 90_000);
});
