import { DataSource } from 'typeorm';
import { OtpChallengeStore } from '../src/otp/persistence/otp-challenge.store';
import { createTestDatabase, TestDatabase } from './support/test-database';

/**
 * The verify and resend statements must reach their row by primary key even on a
 * table the planner has no statistics for yet (a fresh deployment): a plan that
 * scanned the partial "live" index made every verify linear in the live challenges.
 */
describe('query plans of the challenge store', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.dataSource.query(`INSERT INTO otp_challenges (id, recipient_index, purpose, code_digests, max_attempts, expires_at, resend_available_at)
      SELECT gen_random_uuid(), 'r' || g, 'login', ARRAY['k:' || g], 5, now() + interval '10 minutes', now() FROM generate_series(1, 5000) g`);
  });
  afterAll(async () => db?.drop());

  /** Runs `call` against a data source whose query() answers with the EXPLAIN of the statement instead. */
  async function planOf(call: (store: OtpChallengeStore) => Promise<unknown>): Promise<string> {
    let plan = '';
    const explaining = {
      query: async (sql: string, params: unknown[]) => {
        const rows: Record<string, string>[] = await db.dataSource.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${sql}`, params);
        plan = rows.map((r) => r['QUERY PLAN']).join('\n');
        return [{}];
      },
    } as unknown as DataSource;
    await call(new OtpChallengeStore(explaining)).catch(() => undefined);
    return plan;
  }

  it('verify (attempt) updates the challenge through its primary key, never by scanning the live index', async () => {
    const [{ id }] = await db.dataSource.query(`SELECT id FROM otp_challenges LIMIT 1`);
    const plan = await planOf((s) => s.attempt(id, ['k:none'], null, { maxFailures: 20, windowSeconds: 86_400, delay: { afterFailures: 5, baseSeconds: 2, maxSeconds: 900 } }));
    expect(plan).toMatch(/Update on otp_challenges/);
    expect(plan).not.toMatch(/otp_challenges_live_uq/);
    expect(plan).not.toMatch(/Rows Removed by Filter: [0-9]{3,}/);
  });

  it('resend (addCode) updates the challenge through its primary key as well', async () => {
    const [{ id }] = await db.dataSource.query(`SELECT id FROM otp_challenges OFFSET 7 LIMIT 1`);
    const plan = await planOf((s) => s.addCode(id, { purposes: ['login'], digests: ['k:new'] },
      { maxLiveCodes: 3, maxResends: 3, cooldownSeconds: 60 }, { id: '00000000-0000-4000-8000-000000000001', payloadCiphertext: 'x' } as never));
    expect(plan).toMatch(/Update on otp_challenges/);
    expect(plan).not.toMatch(/otp_challenges_live_uq/);
  });
});
