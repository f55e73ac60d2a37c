import { OtpService } from '../../src/otp';
import { OtpSql } from '../../src/otp/persistence/otp-sql';
import { countStatements } from '../support/statement-count';
import { pollFor, testKeyLine } from '../support/test-app';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { testApp } from '../support/test-app.builder';
import { TestResources } from '../support/test-resources';

describe('Dispatcher wake-ups', () => {
  const open = new TestResources();
  let db: TestDatabase | undefined;
  // Both tests use one database, so one set of keys (the index key's fingerprint is checked at start).
  const keys = { OTP_KEYS: testKeyLine('k1'), OTP_ENCRYPTION_KEYS: testKeyLine('e1') };
  afterAll(() => open.close());

  it('LISTEN/NOTIFY: mail written by a writer-only instance goes out at once, long before the next poll', async () => {
    db = open.database(await createTestDatabase());
    const sender = await testApp().database(db!).env({ MAIL_POLL_INTERVAL_MS: '60000', ...keys }).boot();
    open.app(sender);
    const writer = await testApp().database(db).env({ MAIL_DISPATCHER: 'false', ...keys }).boot();
    open.app(writer);
    const c = await writer.app.get(OtpService).issue({ email: `notify.${Date.now()}@example.com` });
    // Only the sender has a dispatcher, and it polls once a minute: the NOTIFY is what wakes it.
    await pollFor(() => sender.mailbox.list().find((m) => m.challengeId === c.challengeId), 3000);
    expect(writer.mailbox.list()).toHaveLength(0);
  });

  it('an instance with its own dispatcher sends no NOTIFY (it would take a database-wide lock at every commit)', async () => {
    const listener = await testApp().database(db!).env({ MAIL_POLL_INTERVAL_MS: '60000', ...keys }).boot();
    open.app(listener);
    const { Client } = await import('pg');
    const watcher = new Client({ connectionString: db!.url });
    await watcher.connect();
    const heard: string[] = [];
    watcher.on('notification', (n) => heard.push(n.channel));
    await watcher.query('LISTEN otp_mail_outbox');
    try {
      const c = await listener.app.get(OtpService).issue({ email: `quiet.${Date.now()}@example.com` });
      await listener.codeFor(c.challengeId); // delivered by its own, in-process wake-up
      await watcher.query('SELECT 1'); // any notification sent before this would have arrived by now
      expect(heard).toEqual([]);
    } finally {
      await watcher.end();
    }
  });

  it('mail written within the claim interval waits for the next claim: 20 codes issued one after another take one claim per second of issuing, plus one', async () => {
    const t = await testApp().database(db!).env({ MAIL_POLL_INTERVAL_MS: '60000', MAIL_CLAIM_INTERVAL_MS: '1000', ...keys }).boot();
    open.app(t);
    const statements = countStatements(t.app.get(OtpSql));
    try {
      const otp = t.app.get(OtpService);
      const ids: string[] = [];
      // One after another, as 20 requests a few ms apart would come.
      const started = Date.now();
      for (let i = 0; i < 20; i++) ids.push((await otp.issue({ email: `spaced.${i}.${Date.now()}@example.com` })).challengeId);
      const seconds = Math.ceil((Date.now() - started) / 1000);
      await pollFor(() => ids.every((id) => t.mailbox.list().some((m) => m.challengeId === id)) || undefined, 5000 + 1000 * seconds);
      // A mail a second or more after the last claim goes at once, the rest wait for the next second: on a
      // quick machine two claims (20 with MAIL_CLAIM_INTERVAL_MS=0).
      expect(statements.count('outbox_claim')).toBeLessThanOrEqual(1 + seconds);
    } finally {
      statements.restore();
    }
  });

  it('embedded PGlite (no LISTEN): the in-process wake-up and polling deliver the code', async () => {
    const t = await testApp().env({ MAIL_POLL_INTERVAL_MS: '100' }).boot();
    open.app(t);
    const otp = t.app.get(OtpService);
    const c = await otp.issue({ email: `pglite.${Date.now()}@example.com` });
    const code = await t.codeFor(c.challengeId);
    await expect(otp.verify({ challengeId: c.challengeId, code })).resolves.toBeDefined();
  });
});
