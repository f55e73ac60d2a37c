import { randomUUID } from 'node:crypto';
import { OtpChallengeStore } from '../src/otp/persistence/otp-challenge.store';
import { NewChallengeRow } from '../src/otp/persistence/otp-challenge.types';
import { largestStatementOf } from './support/captured-statement';
import { holdThenTake, ownConnections } from './support/hold-then-take';
import { createTestDatabase, TestDatabase } from './support/test-database';

/**
 * Batch statements (group commit) lock the challenge rows they write in one order, that of the address
 * (then the id), whatever order their inputs came in: a verify batch and an issue batch's supersede never
 * wait on each other in a circle (a deadlock costs PostgreSQL's deadlock_timeout and a replay). Each test
 * holds one row in a transaction of its own, runs the batch, and then takes the batch's other row: with the
 * order kept the batch waits for the first row holding nothing, without it the two deadlock.
 */
describe('lock order of the batch statements on PostgreSQL', () => {
  let db: TestDatabase;
  const pg = ownConnections(() => db.url);
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  /**
   * The statement a batch holding `inputs` sends: four fillers take the free group-commit slots (there are at most four), and `inputs`
   * share the next one (with a filler that came late, maybe), in their order; `at` is the parameter that lists them.
   */
  async function batchOf<T>(inputs: T[], at: number, keyOf: (input: T) => string, send: (store: OtpChallengeStore, input: T | undefined, i: number) => Promise<unknown>) {
    const sent = await largestStatementOf((store) => Promise.allSettled([undefined, undefined, undefined, undefined, ...inputs].map((input, i) => send(store, input, i))));
    const size = Array.isArray(sent.values[0]) ? sent.values[0].length : 0;
    const keys = (sent.values[at] as string[]).filter((k) => inputs.some((x) => keyOf(x) === k));
    expect(keys).toEqual(inputs.map(keyOf));
    return { ...sent, size };
  }

  /** Two live challenges: `low` of the address that sorts first, with the greater id, written second. */
  async function twoChallenges(tag: string) {
    const low = { id: `ffffffff-ffff-4fff-bfff-${randomUUID().slice(-12)}`, address: `${tag}-a` };
    const high = { id: `00000000-0000-4000-8000-${randomUUID().slice(-12)}`, address: `${tag}-b` };
    for (const c of [high, low]) {
      await db.dataSource.query(`INSERT INTO otp_challenges (id, recipient_index, purpose, code_digests, max_attempts, expires_at, resend_available_at)
        VALUES ($1, $2, 'login', ARRAY['k:right'], 5, now() + interval '10 minutes', now())`, [c.id, c.address]);
    }
    return { low, high };
  }

  const LOCK_CHALLENGE = 'SELECT 1 FROM otp_challenges WHERE id = $1 FOR UPDATE';

  const BUDGET = { maxFailures: 20, windowSeconds: 86_400, delay: { afterFailures: 5, baseSeconds: 2, maxSeconds: 900 } };

  it('a verify batch locks its challenges in the order of their address, not of its inputs: no deadlock with a holder of the first', async () => {
    const { low, high } = await twoChallenges('verify-order');
    // Inputs in the other order: the address that sorts second first (its id sorts first too).
    const batch = await batchOf([high.id, low.id], 0, (id) => id, (s, id, i) => s.attempt(id ?? randomUUID(), ['k:wrong'], null, BUDGET, undefined, id ? undefined : `filler-${i}`));
    const { took, batch: answered } = await holdThenTake(pg.connect, LOCK_CHALLENGE, low.id, high.id, batch);
    expect(took).toBe('took it');
    expect(answered).toBe(batch.size);
    const rows = await db.dataSource.query(`SELECT attempts FROM otp_challenges WHERE id = ANY($1::uuid[])`, [[low.id, high.id]]);
    expect(rows.map((r: { attempts: number }) => r.attempts)).toEqual([1, 1]);
  });

  it('an issue batch supersedes live challenges in the order of their address, whatever their order on disk', async () => {
    const { low, high } = await twoChallenges('issue-order');
    const row = (recipientIndex: string): NewChallengeRow => ({
      id: randomUUID(), recipientIndex, purpose: 'login', contextHash: null, codeDigest: `k:${recipientIndex}`, deliveryCiphertext: 'sealed',
      maxAttempts: 5, ttlSeconds: 600, cooldownSeconds: 30, mail: { id: randomUUID(), payloadCiphertext: 'sealed mail' },
    });
    const batch = await batchOf([row(high.address), row(low.address)], 1, (r) => r.recipientIndex, (s, r, i) => s.supersedeAndInsert(r ?? row(`filler-${i}`)));
    // Without index scans the rows are read in heap order (`high` was written first): the order must not come from the plan.
    const { took, batch: answered } = await holdThenTake(pg.connect, LOCK_CHALLENGE, low.id, high.id, batch, 'SET enable_indexscan = off; SET enable_indexonlyscan = off');
    expect(took).toBe('took it');
    expect(answered).toBe(batch.size);
    const live = await db.dataSource.query(`SELECT count(*)::int AS n FROM otp_challenges WHERE id = ANY($1::uuid[]) AND superseded_at IS NULL`, [[low.id, high.id]]);
    expect(live[0].n).toBe(0);
  });
});
