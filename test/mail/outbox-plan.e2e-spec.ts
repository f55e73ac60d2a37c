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

  /**
   * The EXPLAIN ANALYZE of the statement `call` sends, run in a transaction that is rolled back.
   * `generic`: as a prepared statement once PostgreSQL settled on its generic plan (the plan
   * made without the values, which it reuses for every later call on that connection).
   */
  async function planOf(call: (store: OtpMailOutboxStore) => Promise<unknown>, generic = false): Promise<string> {
    const runner = db.dataSource.createQueryRunner();
    await runner.startTransaction();
    let plan = '';
    try {
      const rows = async (_label: string, sql: string, params: unknown[]) => {
        if (!generic) {
          plan = planText(await runner.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${sql}`, params));
          return [];
        }
        // PREPARE outlives the transaction: deallocated whatever happens.
        await runner.query(`SET LOCAL plan_cache_mode = force_generic_plan`);
        await runner.query(`PREPARE plan_test AS ${sql}`);
        try {
          plan = planText(await runner.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE plan_test(${params.map(literal).join(', ')})`));
        } finally {
          await runner.query(`DEALLOCATE plan_test`);
        }
        return [];
      };
      const explaining = { rows, count: async (...a: Parameters<typeof rows>) => (await rows(...a)).length } as unknown as OtpSql;
      await call(new OtpMailOutboxStore(explaining));
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
    return plan;
  }

  const planText = (rows: Record<string, string>[]) => rows.map((r) => r['QUERY PLAN']).join('\n');
  /** A parameter as an SQL literal of unknown type (EXECUTE takes no bound parameters): PostgreSQL casts it to the statement's. */
  const literal = (v: unknown): string => {
    const quote = (x: string) => `'${x.replace(/'/g, "''")}'`;
    if (v === null) return 'NULL';
    if (Array.isArray(v)) return quote(`{${v.map((x) => (x === null ? 'NULL' : `"${String(x).replace(/["\\]/g, '\\$&')}"`)).join(',')}}`);
    return quote(String(v));
  };

  /**
   * The most rows any node read from `table` or one of its indexes (a bitmap scan of the
   * partial index of pending rows reads the whole backlog), and how often a challenge was looked up.
   */
  const rowsFrom = (plan: string, table: string) =>
    Math.max(0, ...[...plan.matchAll(new RegExp(`on ${table}\\w*(?: \\w+)? \\(actual rows=(\\d+)`, 'g'))].map((m) => Number(m[1])));
  /** `n` rows, or their old versions too (left by the updates earlier tests rolled back): far from the backlog either way. */
  const aboutRows = (n: number) => 2 * n;
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
      expect(rowsFrom(plan, 'otp_mail_outbox')).toBeLessThanOrEqual(aboutRows(20));
    });

    it(`recording 20 deliveries as a prepared statement reads those 20 rows by primary key in its generic plan, ${stats}`, async () => {
      const ids: string[] = (await db.dataSource.query(`SELECT id FROM otp_mail_outbox ORDER BY random() LIMIT 20`)).map((r: { id: string }) => r.id);
      const plan = await planOf((s) => s.markDelivered(ids.map((id) => ({ id, messageId: '<m@example.test>', response: '250 ok' }))), true);
      expect(plan).toMatch(/Update on otp_mail_outbox/);
      expect(plan).toMatch(/otp_mail_outbox_pkey/);
      expect(rowsFrom(plan, 'otp_mail_outbox')).toBeLessThanOrEqual(aboutRows(20));
    });

    it(`re-checking a challenge and settling one row reach them by primary key in their generic plans, ${stats}`, async () => {
      const [{ id, challenge_id: challengeId }] = await db.dataSource.query(`SELECT id, challenge_id FROM otp_mail_outbox ORDER BY random() LIMIT 1`);
      const moot = await planOf((s) => s.challengeEnded(challengeId), true);
      expect(moot).toMatch(/otp_challenges_pkey/);
      for (const settle of [(s: OtpMailOutboxStore) => s.scheduleRetry(id, 'timeout', 1000), (s: OtpMailOutboxStore) => s.markAbandoned(id, 'rejected')]) {
        const plan = await planOf(settle, true);
        expect(plan).toMatch(/otp_mail_outbox_pkey/);
        expect(rowsFrom(plan, 'otp_mail_outbox')).toBeLessThanOrEqual(aboutRows(1));
      }
    });
  }
});
