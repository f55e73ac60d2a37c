import { randomUUID } from 'node:crypto';
import { mintChallengeId, recipientTagOf } from '../src/otp/crypto/challenge-id';
import { OtpChallengeStore, VERIFY_STATEMENTS_IN_FLIGHT } from '../src/otp/persistence/otp-challenge.store';
import { FailureBudgetLimits, TokenOnSuccess, VerifyOutcome } from '../src/otp/persistence/otp-challenge.types';
import { OtpFailureBudgetStore } from '../src/otp/persistence/otp-failure-budget.store';
import { OtpSql } from '../src/otp/persistence/otp-sql';
import { countStatements } from './support/statement-count';
import { createTestDatabase, TestDatabase } from './support/test-database';

/**
 * Verifies by group commit (`ATTEMPT`): concurrent attempts on challenges of distinct addresses share a
 * statement, and each one's outcome (budget, attempt count, consumption, token) is what a statement of its
 * own gave. Attempts of one address never share one (R9, R10, R24 hold under the rows' locks).
 */
describe('verify by group commit on PostgreSQL (R9, R10, R24)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  const BUDGET: FailureBudgetLimits = { maxFailures: 10, windowSeconds: 86_400, delay: null };

  /** A store on its own `OtpSql` (as another instance's would be), counting its verify statements and their failures. */
  function instance() {
    const sql = new OtpSql(db.dataSource, { preparedStatements: true });
    const statements = countStatements(sql);
    const store = new OtpChallengeStore(sql, new OtpFailureBudgetStore(sql));
    const verifies = () => statements.count('attempt') + statements.count('attempt_token');
    return { store, verifies, failed: statements.failed };
  }

  /** A tag of 13 hex digits for address `n` (the tag the keyring would derive, here made up). */
  const tagOf = (n: number) => (0x1000000000000 + n).toString(16).slice(-13);

  /** Issues a live challenge for `recipientIndex` whose code digest is `k:<id>`; its id carries `tag` when given. */
  async function challenge(store: OtpChallengeStore, recipientIndex: string, tag?: string, purpose = 'login'): Promise<string> {
    const id = tag ? mintChallengeId(tag) : randomUUID();
    await store.supersedeAndInsert({
      id, recipientIndex, purpose, contextHash: null, codeDigest: `k:${id}`, deliveryCiphertext: 'sealed',
      maxAttempts: 5, ttlSeconds: 600, cooldownSeconds: 30, mail: { id: randomUUID(), payloadCiphertext: 'sealed mail' },
    });
    return id;
  }

  const right = (id: string) => [`k:other`, `k:${id}`];
  const wrong = (id: string) => [`k:other`, `k:${id}-wrong`];
  const budgetOf = async (recipientIndex: string): Promise<number> =>
    (await db.dataSource.query(`SELECT failures FROM otp_failure_budgets WHERE recipient_index = $1`, [recipientIndex]))[0]?.failures ?? 0;

  it('R24: concurrent verifies for many addresses share statements; right codes consume and mint their own token, wrong ones charge their own address', async () => {
    const { store, verifies, failed } = instance();
    const n = 40;
    const ids = await Promise.all(Array.from({ length: n }, (_, i) => challenge(store, `many-${i}`, tagOf(i))));
    const tokens = ids.map((): TokenOnSuccess => ({ tokenHash: randomUUID(), amr: ['otp_email'], ttlSeconds: 300 }));
    const before = verifies();
    const outcomes = await Promise.all(ids.map((id, i) =>
      store.attempt(id, i % 2 ? wrong(id) : right(id), null, BUDGET, tokens[i], recipientTagOf(id))));
    expect(verifies() - before).toBeLessThan(n / 2);
    expect(failed).toEqual([]);
    for (const [i, id] of ids.entries()) {
      const out = outcomes[i];
      expect(out).toMatchObject({ found: true, attempted: true, attempts: 1, maxAttempts: 5, recipientIndex: `many-${i}`, waitSeconds: null, budgetSpent: false });
      const [c] = await db.dataSource.query(`SELECT consumed_at, attempts FROM otp_challenges WHERE id = $1`, [id]);
      const minted = await db.dataSource.query(`SELECT challenge_id, recipient_index, verified_at FROM otp_tokens WHERE token_hash = $1`, [tokens[i].tokenHash]);
      if (i % 2) {
        expect(out.consumedAt).toBeNull();
        expect(c.consumed_at).toBeNull();
        expect(minted).toEqual([]);
        expect(out.budgetFailures).toBe(1);
        expect(await budgetOf(`many-${i}`)).toBe(1);
      } else {
        expect(out.consumedAt).toEqual(c.consumed_at);
        expect(out.purpose).toBe('login');
        expect(minted).toEqual([{ challenge_id: id, recipient_index: `many-${i}`, verified_at: c.consumed_at }]);
        expect(await budgetOf(`many-${i}`)).toBe(0);
      }
    }
  });

  it('R24: unknown, consumed and live challenges in one burst each get their own answer', async () => {
    const { store, verifies } = instance();
    const live = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => challenge(store, `mixed-${i}`, tagOf(100 + i))));
    await store.attempt(live[6], right(live[6]), null, BUDGET);
    const unknown = mintChallengeId(tagOf(200));
    // The first VERIFY_STATEMENTS_IN_FLIGHT go alone; the consumed, the unknown and the last live one share the next statement.
    const burst = [...live.slice(0, VERIFY_STATEMENTS_IN_FLIGHT), live[6], unknown, live[7]];
    const before = verifies();
    const outcomes = await Promise.all(burst.map((id) => store.attempt(id, right(id), null, BUDGET, undefined, recipientTagOf(id))));
    expect(verifies() - before).toBe(VERIFY_STATEMENTS_IN_FLIGHT + 1);
    const s = VERIFY_STATEMENTS_IN_FLIGHT;
    expect(outcomes[s]).toMatchObject({ found: true, attempted: false, consumedAt: null, recipientIndex: 'mixed-6' });
    expect(outcomes[s + 1]).toMatchObject({ found: false, attempted: false, consumedAt: null, recipientIndex: null });
    for (const i of [...Array(s).keys(), s + 2]) expect(outcomes[i].consumedAt).toBeInstanceOf(Date);
    expect(outcomes[s + 2].recipientIndex).toBe('mixed-7');
  });

  it('R10: attempts of one address never share a statement: two instances guessing on its challenges stop at its budget exactly, bystanders unharmed', async () => {
    const [a, b] = [instance(), instance()];
    const tag = tagOf(300);
    const targets = await Promise.all(['login', 'step-up', 'payment', 'transfer', 'email-change', 'unlock']
      .map((purpose) => challenge(a.store, 'victim', tag, purpose)));
    const bystanders = await Promise.all(Array.from({ length: 12 }, (_, i) => challenge(a.store, `bystander-${i}`, tagOf(400 + i))));
    // 6 challenges x 5 attempts = 30 guesses at a budget of 10, interleaved with the bystanders' right codes.
    const guesses = targets.flatMap((id) => Array.from({ length: 5 }, () => id));
    const calls: Promise<VerifyOutcome>[] = [];
    guesses.forEach((id, i) => {
      calls.push((i % 2 ? a : b).store.attempt(id, wrong(id), null, BUDGET, undefined, recipientTagOf(id)));
      if (i < bystanders.length) calls.push((i % 2 ? b : a).store.attempt(bystanders[i], right(bystanders[i]), null, BUDGET, undefined, recipientTagOf(bystanders[i])));
    });
    const outcomes = await Promise.all(calls);
    expect(outcomes.filter((o) => o.recipientIndex === 'victim' && o.attempted)).toHaveLength(BUDGET.maxFailures);
    expect(outcomes.filter((o) => o.recipientIndex === 'victim' && o.budgetSpent)).toHaveLength(guesses.length - BUDGET.maxFailures);
    expect(await budgetOf('victim')).toBe(BUDGET.maxFailures);
    const [{ attempts }] = await db.dataSource.query(`SELECT sum(attempts)::int AS attempts FROM otp_challenges WHERE id = ANY($1::uuid[])`, [targets]);
    expect(attempts).toBe(BUDGET.maxFailures);
    const perChallenge = await db.dataSource.query(`SELECT attempts FROM otp_challenges WHERE id = ANY($1::uuid[])`, [targets]);
    for (const c of perChallenge) expect(c.attempts).toBeLessThanOrEqual(5); // R9: no challenge past its max attempts
    expect(outcomes.filter((o) => o.recipientIndex?.startsWith('bystander-') && o.consumedAt)).toHaveLength(bystanders.length);
    // Nothing was refused and written again: the victim's attempts never shared a statement.
    expect([...a.failed, ...b.failed]).toEqual([]);
  });

  it('R10: two attempts of one address that slip into one statement (ids without a tag) fail it, and each is then written alone, each failure counted once', async () => {
    const { store, failed } = instance();
    const pair = await Promise.all(['login', 'step-up'].map((purpose) => challenge(store, 'untagged', undefined, purpose)));
    const fillers = await Promise.all(Array.from({ length: 12 }, (_, i) => challenge(store, `filler-${i}`)));
    // The fillers take the free slots; the pair then waits, and two ids of no known address share the next statement.
    const order = [...fillers.slice(0, VERIFY_STATEMENTS_IN_FLIGHT), ...pair, ...fillers.slice(VERIFY_STATEMENTS_IN_FLIGHT)];
    const outcomes = await Promise.all(order.map((id) => store.attempt(id, wrong(id), null, BUDGET)));
    expect(failed.some((f) => /cannot affect row a second time/.test(f))).toBe(true);
    for (const out of outcomes) expect(out).toMatchObject({ found: true, attempted: true, attempts: 1, budgetFailures: expect.any(Number) });
    expect(await budgetOf('untagged')).toBe(2);
    expect(outcomes.filter((o) => o.recipientIndex === 'untagged').map((o) => o.budgetFailures).sort()).toEqual([1, 2]);
    for (const i of [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) expect(await budgetOf(`filler-${i}`)).toBe(1);
  });

  it('R10: one untagged id sent in two letter cases is one challenge and one key: the two attempts never share a statement', async () => {
    const { store, failed } = instance();
    const id = await challenge(store, 'cased');
    const fillers = await Promise.all(Array.from({ length: VERIFY_STATEMENTS_IN_FLIGHT }, (_, i) => challenge(store, `cased-filler-${i}`)));
    const outcomes = await Promise.all([...fillers, id.toUpperCase(), id.toLowerCase()].map((c) => store.attempt(c, wrong(id), null, BUDGET)));
    expect(failed).toEqual([]);
    expect(outcomes.slice(-2).map((o) => o.attempts).sort()).toEqual([1, 2]);
    expect(await budgetOf('cased')).toBe(2);
  });
});
