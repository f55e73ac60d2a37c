import { OtpChallengeStore, VERIFY_STATEMENTS_IN_FLIGHT } from '../src/otp/persistence/otp-challenge.store';
import { OtpFailureBudgetStore } from '../src/otp/persistence/otp-failure-budget.store';
import { OtpSql, statementName } from '../src/otp/persistence/otp-sql';
import { largestStatementOf } from './support/captured-statement';
import { createTestDatabase, TestDatabase } from './support/test-database';

/**
 * The verify and resend statements must reach their row by primary key even on a
 * table the planner has no statistics for yet (a fresh deployment): a plan that
 * scanned the partial "live" index made every verify linear in the live challenges.
 * They go out as named prepared statements, so the generic plan Postgres may switch
 * to after a few executions must reach the row by primary key as well.
 */
describe('query plans of the challenge store', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.dataSource.query(`INSERT INTO otp_challenges (id, recipient_index, purpose, code_digests, max_attempts, expires_at, resend_available_at)
      SELECT gen_random_uuid(), 'r' || g, 'login', ARRAY['k:' || g], 5, now() + interval '10 minutes', now() FROM generate_series(1, 5000) g`);
  });
  afterAll(async () => db?.drop());

  /** The statement and values `call` sends, captured instead of run. */
  async function statementOf(call: (store: OtpChallengeStore) => Promise<unknown>): Promise<{ text: string; values: unknown[] }> {
    let sent = { text: '', values: [] as unknown[] };
    const capturing = {
      rows: async (_label: string, text: string, values: unknown[]) => {
        sent = { text, values };
        return [{}];
      },
    } as unknown as OtpSql;
    await call(new OtpChallengeStore(capturing, new OtpFailureBudgetStore(capturing))).catch(() => undefined);
    return sent;
  }

  /** The statement of concurrent calls that shares the most inputs (`largestStatementOf`). */
  const batchStatementOf = largestStatementOf;

  /** How many times `re` matches `plan` (a statement may read a table more than once: each read must be right). */
  const occurrences = (plan: string, re: RegExp) => plan.match(new RegExp(re.source, 'g'))?.length ?? 0;

  /** The custom plan of the statement `call` sends, run with its values. */
  async function planOf(call: (store: OtpChallengeStore) => Promise<unknown>, capture = statementOf): Promise<string> {
    const { text, values } = await capture(call);
    const rows: Record<string, string>[] = await db.dataSource.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${text}`, values);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  }

  /** The generic plan (no parameter values known) of the statement `call` sends, as a prepared statement. */
  async function genericPlanOf(call: (store: OtpChallengeStore) => Promise<unknown>, capture = statementOf): Promise<string> {
    const { text, values } = await capture(call);
    const runner = db.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query(`SET plan_cache_mode = force_generic_plan`);
      await runner.query(`PREPARE generic_plan AS ${text}`);
      // EXPLAIN EXECUTE takes no bind parameters: the values go in as literals.
      const literal = (v: unknown): string => v === null ? 'NULL' : typeof v === 'number' ? String(v)
        // An array as an untyped literal: it takes the parameter's type (text[], uuid[], int[]).
        : Array.isArray(v) ? literal(`{${v.map((e) => (e === null ? 'NULL' : `"${String(e).replace(/["\\]/g, '\\$&')}"`)).join(',')}}`)
          : `'${String(v).replace(/'/g, "''")}'`;
      const rows: Record<string, string>[] = await runner.query(`EXPLAIN (COSTS OFF) EXECUTE generic_plan(${values.map(literal).join(', ')})`);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      await runner.query(`DEALLOCATE ALL; RESET plan_cache_mode`).catch(() => undefined);
      await runner.release();
    }
  }

  const BUDGET = { maxFailures: 20, windowSeconds: 86_400, delay: { afterFailures: 5, baseSeconds: 2, maxSeconds: 900 } };
  const attemptOf = (id: string) => (s: OtpChallengeStore) => s.attempt(id, ['k:none'], null, BUDGET);
  /** The HTTP route's variant: the same statement also writes the proof token of a right code. */
  const attemptWithTokenOf = (id: string) => (s: OtpChallengeStore) => s.attempt(id, ['k:none'], null, BUDGET,
    { tokenHash: 'h', amr: ['otp_email'], ttlSeconds: 300 });
  const addCodeOf = (id: string) => (s: OtpChallengeStore) => s.addCode(id, { purposes: ['login'], digests: ['k:new'] },
    { maxLiveCodes: 3, maxResends: 3, cooldownSeconds: 60 }, { id: '00000000-0000-4000-8000-000000000001', payloadCiphertext: 'x' } as never);

  it('verify (attempt) updates the challenge through its primary key, never by scanning the live index', async () => {
    const [{ id }] = await db.dataSource.query(`SELECT id FROM otp_challenges LIMIT 1`);
    for (const call of [attemptOf(id), attemptWithTokenOf(id)]) {
      const plan = await planOf(call);
      expect(plan).toMatch(/Update on otp_challenges/);
      expect(plan).not.toMatch(/otp_challenges_live_uq/);
      expect(plan).not.toMatch(/Rows Removed by Filter: [0-9]{3,}/);
    }
  });

  it('verify of a batch (group commit) reaches each challenge by primary key, in its custom and generic plans', async () => {
    const ids: string[] = (await db.dataSource.query(`SELECT id FROM otp_challenges ORDER BY id OFFSET 20 LIMIT $1`, [VERIFY_STATEMENTS_IN_FLIGHT + 4])).map((r: { id: string }) => r.id);
    // At once: the first take the free slots, the last four share one statement.
    const batch = (s: OtpChallengeStore) => Promise.allSettled(ids.map((id) => s.attempt(id, ['k:none', 'k:other'], null, BUDGET,
      { tokenHash: `h${id}`, amr: ['otp_email'], ttlSeconds: 300 })));
    const { values } = await batchStatementOf(batch);
    expect(values[0]).toHaveLength(4);
    const custom = await planOf(batch, batchStatementOf);
    expect(custom).toMatch(/Update on otp_challenges \w+ \(actual rows=4 /);
    // Each of its three reads of the challenges (the ordered lock, the attempts' targets, the update) by primary key.
    expect(occurrences(custom, /otp_challenges_pkey/)).toBeGreaterThanOrEqual(3);
    expect(custom).not.toMatch(/Seq Scan on otp_challenges/);
    expect(custom).not.toMatch(/otp_challenges_live_uq/);
    expect(custom).not.toMatch(/Rows Removed by Filter: [0-9]{3,}/);
    const generic = await genericPlanOf(batch, batchStatementOf);
    expect(occurrences(generic, /otp_challenges_pkey/)).toBeGreaterThanOrEqual(3);
    expect(generic).not.toMatch(/Seq Scan on otp_challenges/);
    expect(generic).not.toMatch(/otp_challenges_live_uq/);
  });

  it('resend (addCode) updates the challenge through its primary key as well', async () => {
    const [{ id }] = await db.dataSource.query(`SELECT id FROM otp_challenges OFFSET 7 LIMIT 1`);
    const plan = await planOf(addCodeOf(id));
    expect(plan).toMatch(/Update on otp_challenges/);
    expect(plan).not.toMatch(/otp_challenges_live_uq/);
  });

  it('the generic plans of the prepared verify and resend statements also go by primary key', async () => {
    const [{ id }] = await db.dataSource.query(`SELECT id FROM otp_challenges OFFSET 11 LIMIT 1`);
    for (const call of [attemptOf(id), attemptWithTokenOf(id), addCodeOf(id)]) {
      const plan = await genericPlanOf(call);
      expect(plan).toMatch(/Update on otp_challenges/);
      expect(plan).toMatch(/otp_challenges_pkey/);
      expect(plan).toMatch(/\$1/); // generic: the id is a parameter, not a value
      expect(plan).not.toMatch(/otp_challenges_live_uq/);
    }
  });

  const issueOf = (n: number) => (s: OtpChallengeStore) => Promise.all(Array.from({ length: n }, (_, i) => s.supersedeAndInsert({
    id: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`, recipientIndex: `r${i * 97 + 1}`, purpose: 'login', contextHash: null,
    codeDigest: 'k:x', deliveryCiphertext: 'd', maxAttempts: 5, ttlSeconds: 600, cooldownSeconds: 30,
    mail: { id: `00000000-0000-4000-9000-${String(i + 1).padStart(12, '0')}`, payloadCiphertext: 'm' },
  })));

  it('issue (a batch of them) finds the live challenge it supersedes by searching the live index for each address, in its custom and generic plans', async () => {
    // A batch of three: the first issue goes alone, the next ones wait for a free slot only when all are out,
    // so the captured statement may hold one; the plan is the same shape for any size.
    const custom = await planOf(issueOf(3));
    // Searched by address: a walk of the whole live index (a join with the input) was linear in the live challenges.
    const searched = /Index Scan using otp_challenges_live_uq on otp_challenges \w+[^\n]*\n\s+Index Cond: \(recipient_index = ANY/;
    expect(custom).not.toMatch(/Seq Scan on otp_challenges/);
    // Both reads (the ordered lock, the supersede) search it.
    expect(occurrences(custom, searched)).toBe(2);
    expect(custom).toMatch(/Update on otp_challenges \w+ \(actual rows=1 /);
    const generic = await genericPlanOf(issueOf(3));
    expect(generic).not.toMatch(/Seq Scan on otp_challenges/);
    expect(occurrences(generic, searched)).toBe(2);
  });

  it('on PostgreSQL the store statements go out named, so each connection plans them once', async () => {
    const sql = new OtpSql(db.dataSource, { preparedStatements: true });
    const probe = `SELECT name FROM pg_prepared_statements WHERE NOT from_sql AND name LIKE 'otp_%'`;
    const rows = await sql.rows<{ name: string }>('probe', probe, []);
    expect(rows.map((r) => r.name)).toContain(statementName('probe', probe));
    expect(statementName('probe', probe)).toMatch(/^otp_probe_[0-9a-f]{8}$/);
    // Another text under the same label is another statement (an edited SQL never reuses an old plan).
    expect(statementName('probe', `${probe} `)).not.toBe(statementName('probe', probe));
  });

  it('with preparedStatements: false (a pooler that cannot keep them) the statements go out unnamed', async () => {
    const sql = new OtpSql(db.dataSource, { preparedStatements: false });
    const probe = `SELECT name FROM pg_prepared_statements WHERE NOT from_sql AND name LIKE 'otp_unnamed_probe_%'`;
    expect(await sql.rows('unnamed_probe', probe, [])).toEqual([]);
  });
});
