import { canonicalEmail, OtpEvent, OtpEventBus, OtpInvalidError, OtpService } from '../../src/otp';
import { pollFor, RELAXED_RATE_LIMITS } from '../support/test-app';
import type { TestDatabase } from '../support/test-database';
import { OtpMailDispatcher } from '../../src/otp/mail/outbox/otp-mail.dispatcher';
import { dumpAllTables } from '../support/table-dump';
import { failureDelayPassed } from '../support/failure-delay';
import { BootedTestApp, testApp } from '../support/test-app.builder';

describe('Failure-budget notice (R13, R19): the person is told, at most once a day', () => {
  let db: TestDatabase;
  let t: BootedTestApp;
  let otp: OtpService;
  const events: OtpEvent[] = [];

  beforeAll(async () => {
    t = await testApp().withDatabase().env({ APP_URL: 'https://app.example.test', MAIL_POLL_INTERVAL_MS: '50', ...RELAXED_RATE_LIMITS }).boot();
    db = t.db;
    otp = t.app.get(OtpService);
    t.app.get(OtpEventBus).subscribe((e) => void events.push(e));
  });
  afterAll(async () => t?.close());

  /** Spends the address's whole budget (20 failures) over four challenges. */
  async function spendBudget(address: string): Promise<void> {
    for (let round = 0; round < 4; round++) {
      const c = await otp.issue({ email: address, locale: 'de-AT', ip: '198.51.100.4', userAgent: 'curl/8.5.0' });
      const code = await t.codeFor(c.challengeId);
      const wrong = code === '000000' ? '000001' : '000000';
      for (let i = 0; i < 5; i++) {
        await failureDelayPassed(db, otp.recipientIndex(address));
        await expect(otp.verify({ challengeId: c.challengeId, code: wrong })).rejects.toBeInstanceOf(OtpInvalidError);
      }
    }
  }
  const noticesTo = (address: string) => t.mailbox.notices().filter((n) => n.to === canonicalEmail(address));
  const queued = (address: string) => events.filter((e) => e.name === 'notice.queued' && e.recipientIndex === otp.recipientIndex(address));

  it('R13: once the budget is spent, the address gets a notice through the outbox (when, from which IP), and the outbox keeps no address', async () => {
    const address = `Notice.${Date.now()}@example.com`;
    await spendBudget(address);
    const notice = await pollFor(() => noticesTo(address)[0]);
    expect(notice).toMatchObject({ kind: 'budget-notice', locale: 'de-AT', ip: '198.51.100.4', userAgent: 'curl/8.5.0', lockSeconds: 86_400 });
    expect(Date.now() - notice.happenedAt.getTime()).toBeLessThan(60_000);
    await pollFor(async () => {
      const [row] = await db.dataSource.query(`SELECT status, payload_ciphertext FROM otp_mail_outbox WHERE kind = 'budget-notice' AND recipient_index = $1`, [otp.recipientIndex(address)]);
      return row?.status === 'delivered' ? row : undefined;
    }).then((row) => expect(row.payload_ciphertext).toBeNull());
    expect(queued(address).map((e) => e.outcome)).toEqual(['success']);
    expect(JSON.stringify(events)).not.toContain(address);
    expect((await dumpAllTables(db)).toLowerCase()).not.toContain(address.toLowerCase());
  });

  it('R13: a second spent budget within 24 h sends no second notice; after 24 h it does (gate kept in the database)', async () => {
    const address = `notice.again.${Date.now()}@example.com`;
    const index = otp.recipientIndex(address);
    await spendBudget(address);
    await pollFor(() => noticesTo(address)[0]);

    // The budget window passes (moved on the database), the person fails again the same day.
    await db.dataSource.query(`UPDATE otp_failure_budgets SET window_started_at = now() - interval '25 hours' WHERE recipient_index = $1`, [index]);
    await spendBudget(address);
    await pollFor(() => (queued(address).length === 2 ? true : undefined));
    expect(queued(address).map((e) => e.outcome)).toEqual(['success', 'failure']);
    expect(queued(address)[1].detail).toMatchObject({ reason: 'rate_limited' });
    await t.app.get(OtpMailDispatcher).whenIdle();
    expect(noticesTo(address)).toHaveLength(1);

    // A day later the gate opens again.
    await db.dataSource.query(`UPDATE otp_mail_notice_gates SET last_queued_at = now() - interval '25 hours' WHERE recipient_index = $1`, [index]);
    await db.dataSource.query(`UPDATE otp_failure_budgets SET window_started_at = now() - interval '25 hours' WHERE recipient_index = $1`, [index]);
    await spendBudget(address);
    await pollFor(() => (noticesTo(address).length === 2 ? true : undefined));
  });
});

