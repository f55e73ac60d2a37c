import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { OtpAuditStore, AuditRowInput } from '../src/otp/audit/otp-audit.store';
import { newBatchId } from '../src/otp/audit/otp-audit.sql';
import { OtpSql } from '../src/otp/persistence/otp-sql';
import { verifyAuditChain, AuditQuery } from '../src/otp/audit/audit-chain.verifier';
import { auditRowOf, OtpAuditWriter } from '../src/otp/audit/otp-audit.writer';
import { resolveAuditOptions } from '../src/otp/audit/audit-options';
import { OtpEventBus } from '../src/otp/events/otp-event-bus';
import { asAuditAppRole } from './support/app-role';
import { createTestDatabase, TestDatabase } from './support/test-database';

const run = promisify(execFile);

function row(i: number, extra: Partial<Parameters<typeof auditRowOf>[0]> = {}): AuditRowInput {
  return auditRowOf({
    name: 'verify.failed', outcome: 'failure', at: new Date(Date.UTC(2026, 0, 1, 0, 0, i % 60, i % 1000)),
    challengeId: '2b7c4a56-1d7e-4c61-9c39-5d2f1d3b8a10', purpose: 'login', recipientIndex: `idx-${i % 7}`,
    ip: '203.0.113.7', userAgent: 'ua', requestId: `r-${i}`, detail: { reason: 'wrong_code', attempt: i % 5 }, ...extra,
  });
}

describe('audit chain on PostgreSQL (R40)', () => {
  let db: TestDatabase;
  let store: OtpAuditStore;
  const q: AuditQuery = (sql, params) => db.dataSource.query(sql, params);

  /** Runs `tamper` and the verifier in one transaction, then rolls back: the chain is intact again. */
  async function verifyAfter(tamper: string[]) {
    const runner = db.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      for (const sql of tamper) await runner.query(sql);
      return await verifyAuditChain((sql, params) => runner.query(sql, params));
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    store = new OtpAuditStore(new OtpSql(db.dataSource, { preparedStatements: false }));
    await store.appendChained(Array.from({ length: 20 }, (_, i) => row(i + 1)));
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('R40: a clean chain verifies and reports its head', async () => {
    const r = await verifyAuditChain(q);
    expect(r).toMatchObject({ ok: true, rows: 20, headSeq: '20', anchorSeq: '0' });
    const [head] = await q(`SELECT hash FROM otp_audit_log WHERE seq = 20`);
    expect(r.headHash).toBe(head.hash);
  });

  it('R40: an UPDATE of one row breaks the chain at that row', async () => {
    const r = await verifyAfter([`UPDATE otp_audit_log SET outcome = 'success' WHERE seq = 7`]);
    expect(r.ok).toBe(false);
    expect(r.firstBroken).toEqual({ seq: '7', reason: 'content does not match its hash' });
  });

  it('R40: an UPDATE of a detail value or a personal field breaks the chain at that row', async () => {
    expect((await verifyAfter([`UPDATE otp_audit_log SET detail = '{"attempt":1,"reason":"ok"}' WHERE seq = 3`])).firstBroken?.seq).toBe('3');
    const ip = await verifyAfter([`UPDATE otp_audit_log SET ip = '198.51.100.1' WHERE seq = 11`]);
    expect(ip.firstBroken).toEqual({ seq: '11', reason: 'personal fields do not match their commitment' });
  });

  it('R40: an UPDATE that also rewrites the row hash is still caught at that row', async () => {
    const r = await verifyAfter([`UPDATE otp_audit_log SET outcome = 'success', hash = repeat('a', 64) WHERE seq = 9`]);
    expect(r.firstBroken?.seq).toBe('9');
  });

  it('R40: a DELETE of one row is named (the missing seq)', async () => {
    const r = await verifyAfter([`DELETE FROM otp_audit_log WHERE seq = 12`]);
    expect(r.ok).toBe(false);
    expect(r.firstBroken?.seq).toBe('12');
    expect(r.firstBroken?.reason).toMatch(/missing/);
  });

  it('R40: deleting the newest rows is caught against the head', async () => {
    const r = await verifyAfter([`DELETE FROM otp_audit_log WHERE seq >= 19`]);
    expect(r.ok).toBe(false);
    expect(r.firstBroken?.seq).toBe('19');
  });

  it('R40: reordering two rows (swapping their seq) breaks the chain at the first of them', async () => {
    const r = await verifyAfter([
      `UPDATE otp_audit_log SET seq = -1 WHERE seq = 5`,
      `UPDATE otp_audit_log SET seq = 5 WHERE seq = 6`,
      `UPDATE otp_audit_log SET seq = 6 WHERE seq = -1`,
    ]);
    expect(r.ok).toBe(false);
    expect(r.firstBroken?.seq).toBe('5');
  });

  it('R40: npm run audit:verify exits 0 on a clean chain and 1 naming the row after tampering', async () => {
    const env = { ...process.env, DATABASE_URL: db.url };
    const ok = await run('npx', ['ts-node', '--transpile-only', 'scripts/audit-verify.ts'], { env });
    expect(ok.stdout).toMatch(/audit chain OK: 20 row\(s\)/);
    await q(`UPDATE otp_audit_log SET event = 'verify.succeeded' WHERE seq = 4`);
    try {
      const bad = await run('npx', ['ts-node', '--transpile-only', 'scripts/audit-verify.ts'], { env }).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      );
      expect(bad?.code).toBe(1);
      expect(bad?.stderr).toMatch(/BROKEN at seq 4/);
    } finally {
      await q(`DELETE FROM otp_audit_log WHERE seq = 4`);
      // Rebuild the tampered row exactly is not possible; restore a fresh chain for later tests.
      await q(`DELETE FROM otp_audit_log`);
      await q(`UPDATE otp_audit_head SET seq = 0, hash = repeat('0', 64)`);
    }
  });

  it('R40: 50 concurrent writers keep one valid, gap-free chain', async () => {
    const before = await verifyAuditChain(q);
    const writers = Array.from({ length: 50 }, () => new OtpAuditStore(new OtpSql(db.dataSource, { preparedStatements: false })));
    await Promise.all(writers.map((w, i) => w.appendChained([row(i * 3), row(i * 3 + 1), row(i * 3 + 2)])));
    const r = await verifyAuditChain(q);
    expect(r).toMatchObject({ ok: true, rows: before.rows + 150 });
    const [{ n, lo, hi }] = await q(`SELECT count(*)::int AS n, min(seq)::text AS lo, max(seq)::text AS hi FROM otp_audit_log`);
    expect(n).toBe(before.rows + 150);
    expect(Number(hi) - Number(lo) + 1).toBe(n);
  });

  it('R30/R40: an erasure of rows at one- and three-digit seqs verifies (its digest lists them as numbers: 9 before 10, not as text)', async () => {
    const subject = String((await q(`SELECT recipient_index FROM otp_audit_log WHERE seq = 9`))[0].recipient_index);
    const seqs = (await q(`SELECT seq::text AS seq FROM otp_audit_log WHERE recipient_index = $1 ORDER BY seq`, [subject])).map((r) => String(r.seq));
    expect(seqs.some((s) => s.length === 1) && seqs.some((s) => s.length === 3)).toBe(true);
    expect(await store.eraseSubject(subject)).toBe(seqs.length);
    expect(await verifyAuditChain(q)).toMatchObject({ ok: true });
  });

  it('R40: the app cannot purge recent rows: a future cutoff is clamped to the floor, and a forged old row at the end purges nothing', async () => {
    const old = Array.from({ length: 4 }, (_, i) => row(i, { at: new Date('2020-01-01T00:00:00Z') }));
    const fresh = Array.from({ length: 3 }, (_, i) => row(i, { at: new Date() }));
    const forged = [row(9, { at: new Date('1970-01-01T00:00:00Z') })];
    await q(`DELETE FROM otp_audit_log`);
    await q(`UPDATE otp_audit_head SET seq = 0, hash = repeat('0', 64)`);
    await q(`UPDATE otp_audit_anchor SET seq = 0, hash = repeat('0', 64)`);
    await store.appendChained(old);
    await store.appendChained(fresh);
    await store.appendChained(forged);
    // "Purge everything before the year 3000": only the four 2020 rows go.
    expect(await store.purgeBefore(new Date('3000-01-01T00:00:00Z'))).toBe(4);
    const [{ n }] = await q(`SELECT count(*)::int AS n FROM otp_audit_log`);
    expect(n).toBe(4);
    expect(await verifyAuditChain(q)).toMatchObject({ ok: true, rows: 4, anchorSeq: '4', headSeq: '8' });
  });

  it('R40: retention purge keeps an anchor, and the chain verifies from it', async () => {
    const old = Array.from({ length: 5 }, (_, i) => row(i, { at: new Date('2020-01-01T00:00:00Z') }));
    const fresh = Array.from({ length: 3 }, (_, i) => row(i, { at: new Date() }));
    await q(`DELETE FROM otp_audit_log`);
    await q(`UPDATE otp_audit_head SET seq = 0, hash = repeat('0', 64)`);
    await store.appendChained(old);
    await store.appendChained(fresh);
    expect(await store.purgeBefore(new Date('2021-01-01T00:00:00Z'))).toBe(5);
    const r = await verifyAuditChain(q);
    expect(r).toMatchObject({ ok: true, rows: 3, anchorSeq: '5', headSeq: '8' });
    // Putting a purged row back (or forging one before the anchor) is detected.
    const [anchor] = await q(`SELECT hash FROM otp_audit_anchor`);
    expect(anchor.hash).toMatch(/^[0-9a-f]{64}$/);
    const back = await verifyAfter([
      `INSERT INTO otp_audit_log (seq, at, event, outcome, prev_hash, hash) VALUES (5, now(), 'x', 'success', 'p', 'h')`,
    ]);
    expect(back.firstBroken?.seq).toBe('5');
  });

  it('R40: an app role granted by otp_audit_grant_app_role can INSERT and SELECT but not UPDATE or DELETE', async () => {
    await asAuditAppRole(db.url, async (admin) => {
      await expect(admin.query(`SELECT count(*) FROM otp_audit_log`)).resolves.toBeDefined();
      await admin.query(`SAVEPOINT s`);
      await expect(admin.query(`UPDATE otp_audit_log SET outcome = 'success'`)).rejects.toMatchObject({ code: '42501' });
      await admin.query(`ROLLBACK TO SAVEPOINT s`);
      await expect(admin.query(`DELETE FROM otp_audit_log`)).rejects.toMatchObject({ code: '42501' });
      await admin.query(`ROLLBACK TO SAVEPOINT s`);
      await expect(admin.query(`TRUNCATE otp_audit_log`)).rejects.toMatchObject({ code: '42501' });
      await admin.query(`ROLLBACK TO SAVEPOINT s`);
      // Appends and the purge/erase functions are what the role can do.
      const roleStore = new OtpAuditStore({ rows: (_label: string, sql: string, p: unknown[]) => admin.query(sql, p).then((r) => r.rows) } as never);
      await roleStore.appendChained([row(1)]);
      // The writer's appends record their batch id (and a try of a batch that is in writes nothing).
      const id = newBatchId();
      await roleStore.appendBatch([row(2, { requestId: 'r-batch' })], id);
      await admin.query(`SAVEPOINT b`);
      await roleStore.appendBatch([row(2, { requestId: 'r-batch' })], id);
      await admin.query(`ROLLBACK TO SAVEPOINT b`);
      expect((await admin.query(`SELECT count(*)::int AS n FROM otp_audit_log WHERE request_id = 'r-batch'`)).rows[0].n).toBe(1);
      // Retention deletes old ids as the app role (it reads them to pick them).
      await expect(admin.query(`DELETE FROM otp_audit_batch WHERE id = $1`, [id])).resolves.toMatchObject({ rowCount: 1 });
      await expect(admin.query(`SELECT otp_audit_erase_subject('nobody')`)).resolves.toBeDefined();
    });
  });
});

describe('audit chain: text that is not well-formed UTF-16 (R40)', () => {
  let db: TestDatabase;
  afterAll(async () => {
    await db?.drop();
  });

  // PostgreSQL stores text as UTF-8: a lone surrogate reaches it as U+FFFD. The hashed body must say the same,
  // or the verifier, which rebuilds the body from the stored columns, reports the row as tampered with.
  it.each([true, false])('R40: a lone surrogate, or a pair cut by a length cap, is stored as it was hashed: the chain verifies (prepared statements %s)', async (prepared) => {
    db = db ?? (await createTestDatabase());
    const store = new OtpAuditStore(new OtpSql(db.dataSource, { preparedStatements: prepared }));
    const cut = 'a'.repeat(199) + '\u{1F600}'; // the detail cap (200) falls between the two halves of the emoji
    await store.appendChained([
      row(1, { purpose: 'login\ud800', detail: { reason: cut, status: 'x\udc00y' } }),
      row(2, { name: 'host.event\udbff', requestId: 'r\ud83d' }),
      row(3),
    ]);
    const r = await verifyAuditChain((sql, params) => db.dataSource.query(sql, params));
    expect(r).toMatchObject({ ok: true });
    const [stored] = await db.dataSource.query(`SELECT purpose, detail->>'reason' AS reason FROM otp_audit_log ORDER BY seq DESC OFFSET 2 LIMIT 1`);
    expect(stored.purpose).toBe('login\ufffd');
    expect(stored.reason).toBe('a'.repeat(199) + '\ufffd');
  });
});

describe('audit append and writer on PostgreSQL: rows stored as given, written once (R40)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  // The chained columns are read back from each row's canonical body in the database, the personal fields
  // from a second parameter: every column of version 2 and version 1 rows, with values and with nulls.
  it.each([true, false])('R40: every column of appended version 2 and version 1 rows holds the row\'s value (prepared statements %s)', async (prepared) => {
    const sql = new OtpSql(db.dataSource, { preparedStatements: prepared });
    const store = new OtpAuditStore(sql);
    const full = row(7, { detail: { reason: 'wrong_code', attempt: 2, status: null, ok: false } });
    const bare = auditRowOf({ name: 'retention.purged', outcome: 'success', at: new Date(Date.UTC(2026, 5, 30, 23, 59, 59, 999)) });
    const legacy: AuditRowInput = { ...row(8, { name: 'legacy "quoted" \\ event' }), version: 1, linkCommitment: null, linkSalt: null, ipNetwork: null };
    const rows = [full, bare, legacy];
    const stored = await sql.transaction(async (tx) => {
      await store.appendChained(rows, tx);
      const out = await tx.rows(`columns`, `SELECT at, event, owasp, outcome, challenge_id, purpose, request_id, detail, subject_commitment,
        recipient_index, ip, user_agent, pii_salt, body_version, link_commitment, link_salt, ip_network
        FROM otp_audit_log ORDER BY seq DESC LIMIT 3`);
      const check = await verifyAuditChain((text, params) => tx.rows('verify', text, params));
      expect(check).toMatchObject({ ok: true });
      return out.reverse();
    });
    expect(stored).toHaveLength(3);
    stored.forEach((s, i) => {
      const r = rows[i];
      expect({
        at: new Date(s.at).toISOString(), event: s.event, owasp: s.owasp, outcome: s.outcome, challengeId: s.challenge_id,
        purpose: s.purpose, requestId: s.request_id, detail: s.detail, subjectCommitment: s.subject_commitment,
        recipientIndex: s.recipient_index, ip: s.ip, userAgent: s.user_agent, piiSalt: s.pii_salt, version: Number(s.body_version),
        linkCommitment: s.link_commitment, linkSalt: s.link_salt, ipNetwork: s.ip_network,
      }).toEqual({
        at: r.at.toISOString(), event: r.event, owasp: r.owasp, outcome: r.outcome, challengeId: r.challengeId,
        purpose: r.purpose, requestId: r.requestId, detail: r.detail, subjectCommitment: r.subjectCommitment,
        recipientIndex: r.recipientIndex, ip: r.ip, userAgent: r.userAgent, piiSalt: r.piiSalt, version: r.version ?? 2,
        linkCommitment: r.linkCommitment ?? null, linkSalt: r.linkSalt ?? null, ipNetwork: r.ipNetwork ?? null,
      });
    });
    expect(stored[0].recipient_index).not.toBeNull();
    expect(stored[1]).toMatchObject({ recipient_index: null, ip: null, pii_salt: null, subject_commitment: null });
  });

  const lost = {
    'the connection failed (08006)': () => Object.assign(new Error('connection failure during commit'), { code: '08006' }),
    'the socket ended, no SQLSTATE': () => new Error('Connection terminated unexpectedly'),
    'FATAL 57P01': () => Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' }),
    '40003 (completion unknown)': () => Object.assign(new Error('statement completion unknown'), { code: '40003' }),
  };

  /** A writer whose appends number `lose` (1: the first) are lost on the way back: `committed` says whether the statement ran. */
  function flakyWriter(error: () => Error, committed: boolean, lose = [1]) {
    const sql = new OtpSql(db.dataSource, { preparedStatements: false });
    let appends = 0;
    const flaky: OtpSql = Object.create(sql);
    const losing = async <T,>(label: string, run: () => Promise<T>): Promise<T> => {
      if (label === 'audit_append' && lose.includes(++appends)) {
        if (committed) await run();
        throw error();
      }
      return run();
    };
    flaky.rows = (label, text, values, mode) => losing(label, () => sql.rows(label, text, values, mode));
    flaky.count = (label, text, values, mode) => losing(label, () => sql.count(label, text, values, mode));
    const bus = new OtpEventBus();
    const writer = new OtpAuditWriter(new OtpAuditStore(flaky), bus, { audit: resolveAuditOptions({ flushIntervalMs: 100_000 }) });
    (writer as unknown as { logger: { error: () => void } }).logger = { error: () => undefined };
    writer.onModuleInit();
    return { writer, bus };
  }

  const rowCount = async () => Number((await db.dataSource.query(`SELECT count(*)::int AS n FROM otp_audit_log`))[0].n);

  it.each(Object.entries(lost))('R40: when the append committed but %s, the retry writes nothing of that batch again and appends only what came after', async (_what, error) => {
    const { writer, bus } = flakyWriter(error, true);
    const before = await rowCount();
    const at = new Date();
    // Two events alike but for nothing personal (no salt tells them apart) and one with a subject.
    bus.emit({ name: 'alert.raised', outcome: 'failure', at, detail: { rule: 'x' } });
    bus.emit({ name: 'alert.raised', outcome: 'failure', at, detail: { rule: 'x' } });
    bus.emit({ name: 'verify.failed', outcome: 'failure', at, recipientIndex: 'idx-lost', ip: '203.0.113.9', requestId: 'r-lost' });
    await expect(writer.flush()).rejects.toThrow();
    expect(await rowCount()).toBe(before + 3);
    bus.emit({ name: 'challenge.issued', outcome: 'success', recipientIndex: 'idx-lost' });
    await writer.flush();
    expect(writer.pending).toBe(0);
    expect(await rowCount()).toBe(before + 4);
    const events = await db.dataSource.query(`SELECT event FROM otp_audit_log ORDER BY seq DESC LIMIT 4`);
    expect(events.map((e: { event: string }) => e.event).reverse()).toEqual(['alert.raised', 'alert.raised', 'verify.failed', 'challenge.issued']);
    expect(await verifyAuditChain((sql, params) => db.dataSource.query(sql, params))).toMatchObject({ ok: true });
  });

  it.each(Object.entries(lost))('R40: when the append did not commit and %s, the retry writes every row', async (_what, error) => {
    const { writer, bus } = flakyWriter(error, false);
    const before = await rowCount();
    const at = new Date();
    bus.emit({ name: 'alert.raised', outcome: 'failure', at, detail: { rule: 'y' } });
    bus.emit({ name: 'verify.failed', outcome: 'failure', at, recipientIndex: 'idx-unsent', requestId: 'r-unsent' });
    await expect(writer.flush()).rejects.toThrow();
    expect(await rowCount()).toBe(before);
    await writer.flush();
    expect(await rowCount()).toBe(before + 2);
    expect(await verifyAuditChain((sql, params) => db.dataSource.query(sql, params))).toMatchObject({ ok: true });
  });

  it('R40: the same text again after a batch that landed (an identical alert in the same millisecond) is written, not taken for the lost batch', async () => {
    const { writer, bus } = flakyWriter(lost['the connection failed (08006)'], false, [1, 3]);
    const plain = { name: 'alert.raised', outcome: 'failure' as const, at: new Date(), detail: { rule: 'z' } };
    bus.emit(plain);
    await expect(writer.flush()).rejects.toThrow();
    await writer.flush();
    const before = await rowCount();
    // The same alert again, lost on the way (not committed): only rows after the writer's last append can be it.
    bus.emit(plain);
    await expect(writer.flush()).rejects.toThrow();
    await writer.flush();
    expect(await rowCount()).toBe(before + 1);
  });
  // The head is locked (a long append, a purge): the writer's append waits on the server; its client gives up (a
  // timeout, a reset: no SQLSTATE), and the server process goes on. The retry goes out while it waits. Lock waiters
  // are served in arrival order, so each order is made: the first try waits first, or its statement arrives late.
  it.each(['the first try', 'the retry'])('R40: an append whose answer was lost while its server process still waited for the head lock is written once when %s gets the lock first', async (winner) => {
    const sql = new OtpSql(db.dataSource, { preparedStatements: false });
    const locker = db.dataSource.createQueryRunner();
    await locker.connect();
    await locker.startTransaction();
    await locker.query(`SELECT 1 FROM otp_audit_head WHERE id = 1 FOR UPDATE`);
    const waiting = async (n: number) => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const [{ count }] = await db.dataSource.query(`SELECT count(*)::int AS count FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'WITH RECURSIVE head AS%'`);
        if (count >= n) return;
        if (Date.now() > deadline) throw new Error(`${n} append(s) never waited for the head lock (${count} did)`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    let abandoned: Promise<unknown> | undefined;
    let late: (() => void) | undefined;
    const flaky: OtpSql = Object.create(sql);
    flaky.rows = async (label, text, values, mode) => {
      if (label !== 'audit_append' || abandoned) return sql.rows(label, text, values, mode);
      if (winner === 'the first try') {
        abandoned = sql.rows(label, text, values, mode).then(() => 'written', (err: { code?: string }) => err.code);
        await waiting(1);
      } else {
        abandoned = new Promise((resolve) => (late = () => resolve(sql.rows(label, text, values, mode).then(() => 'written', (err: { code?: string }) => err.code))));
      }
      throw new Error('Query read timeout');
    };
    const bus = new OtpEventBus();
    const writer = new OtpAuditWriter(new OtpAuditStore(flaky), bus, { audit: resolveAuditOptions({ flushIntervalMs: 100_000 }) });
    (writer as unknown as { logger: { error: () => void } }).logger = { error: () => undefined };
    writer.onModuleInit();
    const before = await rowCount();
    let outcomes: unknown[];
    try {
      bus.emit({ name: 'verify.failed', outcome: 'failure', recipientIndex: 'idx-waiting', requestId: 'r-waiting' });
      bus.emit({ name: 'alert.raised', outcome: 'failure', detail: { rule: 'w' } });
      await expect(writer.flush()).rejects.toThrow('Query read timeout');
      const retry = writer.flush().then(() => 'resolved');
      await waiting(1);
      late?.();
      await waiting(2);
      await locker.commitTransaction();
      outcomes = await Promise.all([abandoned, retry]);
    } finally {
      if (locker.isTransactionActive) await locker.rollbackTransaction();
      await locker.release();
    }
    // The one that came second failed on the batch id (23505) and wrote nothing; the writer took the batch as written.
    expect(outcomes).toEqual([winner === 'the first try' ? 'written' : '23505', 'resolved']);
    expect(await rowCount()).toBe(before + 2);
    expect(writer.pending).toBe(0);
    expect(await verifyAuditChain((text, params) => db.dataSource.query(text, params))).toMatchObject({ ok: true });
  });

  it('R40: an append that clashes with a row already at its seq (not on its batch id) fails and records no batch id', async () => {
    const store = new OtpAuditStore(new OtpSql(db.dataSource, { preparedStatements: false }));
    // A row at the head's next seq that the head does not know of (written behind the chain's back).
    await db.dataSource.query(`INSERT INTO otp_audit_log (seq, at, event, outcome, prev_hash, hash)
      SELECT seq + 1, now(), 'x', 'success', 'p', 'h' FROM otp_audit_head WHERE id = 1`);
    try {
      const id = newBatchId();
      await expect(store.appendBatch([row(1)], id)).rejects.toMatchObject({ driverError: { code: '23505', constraint: 'otp_audit_log_pkey' } });
      expect(await db.dataSource.query(`SELECT id FROM otp_audit_batch WHERE id = $1`, [id])).toEqual([]);
    } finally {
      await db.dataSource.query(`DELETE FROM otp_audit_log WHERE seq > (SELECT seq FROM otp_audit_head WHERE id = 1)`);
    }
    expect(await verifyAuditChain((text, params) => db.dataSource.query(text, params))).toMatchObject({ ok: true });
  });

  it('R40: retention keeps a batch id for at least a day, even with a shorter spent-row period', async () => {
    const store = new OtpAuditStore(new OtpSql(db.dataSource, { preparedStatements: false }));
    const [young, old] = [newBatchId(), newBatchId()];
    await store.appendBatch([row(1)], young);
    await store.appendBatch([row(2)], old);
    await db.dataSource.query(`UPDATE otp_audit_batch SET appended_at = now() - interval '23 hours' WHERE id = $1`, [young]);
    await db.dataSource.query(`UPDATE otp_audit_batch SET appended_at = now() - interval '25 hours' WHERE id = $1`, [old]);
    expect(await store.purgeBatchIds(60)).toBe(1);
    const left = (await db.dataSource.query(`SELECT id FROM otp_audit_batch WHERE id = ANY($1)`, [[young, old]])).map((r: { id: string }) => r.id);
    expect(left).toEqual([young]);
  });

  it('R40: an append with no head row to link to fails instead of resolving with nothing written', async () => {
    const store = new OtpAuditStore(new OtpSql(db.dataSource, { preparedStatements: false }));
    const runner = db.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      await runner.query(`DELETE FROM otp_audit_head`);
      const tx = { rows: async (_l: string, text: string, values: unknown[]) => (await runner.query(text, values, true)).records } as never;
      await expect(store.appendChained([row(1)], tx, newBatchId())).rejects.toThrow(/audit append wrote nothing/);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  });
});
