import { randomUUID } from 'node:crypto';
import { OtpChallengeStore } from '../src/otp/persistence/otp-challenge.store';
import { NewChallengeRow } from '../src/otp/persistence/otp-challenge.types';
import { OtpFailureBudgetStore } from '../src/otp/persistence/otp-failure-budget.store';
import { OtpSql } from '../src/otp/persistence/otp-sql';
import { countStatements } from './support/statement-count';
import { createTestDatabase, TestDatabase } from './support/test-database';

/** Issues by group commit (`ISSUE_BATCH`): shared statements, and the live index across instances (R7). */
describe('issue by group commit on PostgreSQL (R7)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  /** A store on its own `OtpSql` (as another instance's would be), counting the issue statements it sends. */
  function instance() {
    const sql = new OtpSql(db.dataSource, { preparedStatements: true });
    const statements = countStatements(sql);
    return { store: new OtpChallengeStore(sql, new OtpFailureBudgetStore(sql)), issues: () => statements.count('issue') };
  }

  const row = (recipientIndex: string, purpose = 'login'): NewChallengeRow => ({
    id: randomUUID(), recipientIndex, purpose, contextHash: null, codeDigest: `k:${recipientIndex}`, deliveryCiphertext: 'sealed',
    maxAttempts: 5, ttlSeconds: 600, cooldownSeconds: 30, mail: { id: randomUUID(), payloadCiphertext: 'sealed mail' },
  });

  it('R7: issues for many addresses at once share statements; each gets its challenge, its times and its mail', async () => {
    const { store, issues } = instance();
    const rows = Array.from({ length: 40 }, (_, i) => row(`many-${i}`));
    const times = await Promise.all(rows.map((r) => store.supersedeAndInsert(r)));
    expect(issues()).toBeLessThan(rows.length / 2);
    const stored = await db.dataSource.query(
      `SELECT c.id, c.expires_at, c.resend_available_at, o.id AS mail_id, o.deadline_at FROM otp_challenges c
       JOIN otp_mail_outbox o ON o.challenge_id = c.id WHERE c.id = ANY($1::uuid[])`, [rows.map((r) => r.id)]);
    expect(stored).toHaveLength(rows.length);
    for (const [i, r] of rows.entries()) {
      const s = stored.find((x: { id: string }) => x.id === r.id);
      expect(s.mail_id).toBe(r.mail.id);
      expect(times[i]).toEqual({ expiresAt: s.expires_at, resendAvailableAt: s.resend_available_at });
      expect(s.deadline_at).toEqual(s.expires_at);
    }
  });

  it('R7: two instances issuing for one address and purpose at once leave exactly one live challenge, and every issue answers', async () => {
    const [a, b] = [instance(), instance()];
    const rows = Array.from({ length: 24 }, () => row('contended'));
    const others = Array.from({ length: 8 }, (_, i) => row(`bystander-${i}`));
    const all = [...rows.map((r, i) => (i % 2 ? a : b).store.supersedeAndInsert(r)), ...others.map((r, i) => (i % 2 ? b : a).store.supersedeAndInsert(r))];
    const settled = await Promise.allSettled(all);
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    const [live] = await db.dataSource.query(
      `SELECT count(*)::int AS n FROM otp_challenges WHERE recipient_index = 'contended' AND superseded_at IS NULL AND consumed_at IS NULL`);
    expect(live.n).toBe(1);
    const [{ n }] = await db.dataSource.query(`SELECT count(*)::int AS n FROM otp_challenges WHERE id = ANY($1::uuid[])`, [[...rows, ...others].map((r) => r.id)]);
    expect(n).toBe(rows.length + others.length);
    // Every superseded challenge's sealed delivery details are gone with it.
    const [{ sealed }] = await db.dataSource.query(
      `SELECT count(*)::int AS sealed FROM otp_challenges WHERE recipient_index = 'contended' AND superseded_at IS NOT NULL AND delivery_ciphertext IS NOT NULL`);
    expect(sealed).toBe(0);
  });
});
