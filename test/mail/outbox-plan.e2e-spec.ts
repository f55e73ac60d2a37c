import { OtpMailOutboxStore } from '../../src/otp/mail/outbox/otp-mail-outbox.store';
import { OtpSql } from '../../src/otp/persistence/otp-sql';
import { createTestDatabase, TestDatabase } from '../support/test-database';

/**
 * Claiming and recording must not cost more per message as the backlog grows: the
 * dispatcher runs them for every batch, and a backlog is exactly when mail must move
 * fast (an SMTP outage ended). Checked without statistics (a fresh deployment, or a
 * backlog the last ANALYZE did not see) and with them.
 */
describe('query plans of the mail outbox', () => {
  let db: TestDatabase;
  const BACKLOG = 3000;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.dataSource.query(`INSERT INTO otp_challenges (id, recipient_index, purpose, code_digests, max_attempts, expires_at, resend_available_at)
      SELECT gen_random_uuid(), 'r' || g, 'login', ARRAY['k:' || g], 5, now() + interval '10 minutes', now() FROM generate_series(1, ${BACKLOG}) g`);
    await db.dataSource.query(`INSERT INTO otp_mail_outbox (id, challenge_id, kind, purpose, recipient_index, payload_ciphertext, deadline_at)
      SELECT gen_random_uuid(), id, 'code', purpose, recipient_index, repeat('x', 600), expires_at FROM otp_challenges`);
  });
  afterAll(async () => db?.drop());

  /** The EXPLAIN ANALYZE of the statement `call` sends, run in a transaction that is rolled back. */
  async function planOf(call: (store: OtpMailOutboxStore) => Promise<unknown>): Promise<string> {
    const runner = db.dataSource.createQueryRunner();
    await runner.startTransaction();
    let plan = '';
    try {
      const explaining = {
        rows: async (_label: string, sql: string, params: unknown[]) => {
          const rows: Record<string, string>[] = await runner.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${sql}`, params);
          plan = rows.map((r) => r['QUERY PLAN']).join('\n');
          return [];
        },
      } as unknown as OtpSql;
      await call(new OtpMailOutboxStore(explaining));
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
    return plan;
  }

  /** The most rows any node read from `table`, and how often a challenge was looked up. */
  const rowsFrom = (plan: string, table: string) =>
    Math.max(0, ...[...plan.matchAll(new RegExp(`on ${table} \\w+ \\(actual rows=(\\d+)`, 'g'))].map((m) => Number(m[1])));
  const challengeLookups = (plan: string) =>
    [...plan.matchAll(/on otp_challenges \w+ \(actual rows=\d+ loops=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);

  for (const stats of ['without statistics', 'with statistics'] as const) {
    it(`claiming 25 of ${BACKLOG} due rows looks up 25 challenges by primary key, ${stats}`, async () => {
      if (stats === 'with statistics') await db.dataSource.query('ANALYZE');
      const plan = await planOf((s) => s.claimDue('plan-test', 25, 60));
      expect(plan).toMatch(/Update on otp_mail_outbox/);
      expect(plan).not.toMatch(/Seq Scan on otp_challenges|hashed SubPlan/);
      expect(challengeLookups(plan)).toBeLessThanOrEqual(25);
    });

    it(`recording 20 deliveries reads those 20 rows by primary key, not the backlog, ${stats}`, async () => {
      const ids: string[] = (await db.dataSource.query(`SELECT id FROM otp_mail_outbox ORDER BY random() LIMIT 20`)).map((r: { id: string }) => r.id);
      const plan = await planOf((s) => s.markDelivered(ids.map((id) => ({ id, messageId: '<m@example.test>', response: '250 ok' }))));
      expect(plan).toMatch(/Update on otp_mail_outbox/);
      expect(plan).toMatch(/otp_mail_outbox_pkey/);
      expect(rowsFrom(plan, 'otp_mail_outbox')).toBeLessThanOrEqual(20);
    });
  }
});
