import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { AuditQuery, verifyAuditChain, VerifyOptions } from '../src/otp/audit/audit-chain.verifier';
import { AuditRowInput, OtpAuditStore } from '../src/otp/audit/otp-audit.store';
import { OtpSql } from '../src/otp/persistence/otp-sql';
import { auditRowOf } from '../src/otp/audit/otp-audit.writer';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { HTTP_ADAPTERS } from './support/test-app';
import { BootedTestApp, testApp } from './support/test-app.builder';

const run = promisify(execFile);

function row(i: number): AuditRowInput {
  return auditRowOf({
    name: 'verify.failed', outcome: 'failure', at: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, i)),
    challengeId: '2b7c4a56-1d7e-4c61-9c39-5d2f1d3b8a10', purpose: 'login', recipientIndex: `idx-${i % 7}`,
    ip: '203.0.113.7', userAgent: 'ua', requestId: `r-${i}`, detail: { reason: 'wrong_code', attempt: i % 5 },
  });
}

/** Runs `tamper` and the verifier in one transaction, then rolls back: the chain is intact again. */
async function verifyAfter(db: TestDatabase, tamper: string[], options?: VerifyOptions) {
  const runner = db.dataSource.createQueryRunner();
  await runner.connect();
  await runner.startTransaction();
  try {
    for (const sql of tamper) await runner.query(sql);
    return await verifyAuditChain((sql, params) => runner.query(sql, params), options);
  } finally {
    await runner.rollbackTransaction();
    await runner.release();
  }
}

/** Runs a script with ts-node; resolves with its exit code and output, whatever the code. */
async function script(file: string, args: string[], env: NodeJS.ProcessEnv) {
  return run('npx', ['ts-node', '--transpile-only', file, ...args], { env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

describe('audit chain of several pages (2,500 rows, R40)', () => {
  let db: TestDatabase;
  const q: AuditQuery = (sql, params) => db.dataSource.query(sql, params);

  beforeAll(async () => {
    db = await createTestDatabase();
    // One multi-row append: the verifier reads 1000 rows a page, so this is three pages.
    await new OtpAuditStore(new OtpSql(db.dataSource, { preparedStatements: false })).appendChained(Array.from({ length: 2500 }, (_, i) => row(i + 1)));
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('R40: an untampered chain of 2,500 rows verifies to its head, every row checked', async () => {
    const r = await verifyAuditChain(q);
    expect(r).toMatchObject({ ok: true, rows: 2500, headSeq: '2500', anchorSeq: '0' });
    expect(r.firstBroken).toBeUndefined();
  });

  it('R40: an edit past the first page is named (seq 1000, 1700, 2400; a missing seq 2001)', async () => {
    for (const seq of [1000, 1001, 1700, 2400]) {
      const r = await verifyAfter(db, [`UPDATE otp_audit_log SET outcome = 'success' WHERE seq = ${seq}`]);
      expect(r).toMatchObject({ ok: false, firstBroken: { seq: String(seq), reason: 'content does not match its hash' } });
    }
    const gap = await verifyAfter(db, [`DELETE FROM otp_audit_log WHERE seq = 2001`]);
    expect(gap.firstBroken?.seq).toBe('2001');
    expect(gap.firstBroken?.reason).toMatch(/missing/);
  });

  it('R40: npm run audit:verify checks all 2,500 rows and names a row edited on the third page', async () => {
    const ok = await script('scripts/audit-verify.ts', [], { DATABASE_URL: db.url });
    expect(ok).toMatchObject({ code: 0 });
    expect(ok.stdout).toMatch(/audit chain OK: 2500 row\(s\)/);
    const [{ outcome }] = await q(`SELECT outcome FROM otp_audit_log WHERE seq = 2222`);
    await q(`UPDATE otp_audit_log SET outcome = 'success' WHERE seq = 2222`);
    try {
      const bad = await script('scripts/audit-verify.ts', [], { DATABASE_URL: db.url });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/BROKEN at seq 2222: content does not match its hash/);
    } finally {
      await q(`UPDATE otp_audit_log SET outcome = $1 WHERE seq = 2222`, [outcome]);
    }
  }, 120_000);
});

describe.each(HTTP_ADAPTERS)('GET /admin/otp/audit/verify on a chain of several pages (%s, R40)', (adapter) => {
  let db: TestDatabase;
  let t: BootedTestApp;
  const ADMIN = `test-admin-token-${Date.now()}`;

  beforeAll(async () => {
    t = await testApp().withDatabase().adapter(adapter).env({ OTP_ADMIN_TOKEN: ADMIN }).boot();
    db = t.db;
    await new OtpAuditStore(new OtpSql(db.dataSource, { preparedStatements: false })).appendChained(Array.from({ length: 2500 }, (_, i) => row(i + 1)));
  });
  afterAll(async () => t?.close());

  it('R40: answers ok for 2,500 untampered rows, and names a row edited past the first page', async () => {
    const auth = { Authorization: `Bearer ${ADMIN}` };
    const ok = await request(t.app.getHttpServer()).get('/admin/otp/audit/verify').set(auth).expect(200);
    expect(ok.body).toMatchObject({ ok: true, anchorSeq: '0' });
    expect(ok.body.rows).toBeGreaterThanOrEqual(2500);
    await db.dataSource.query(`UPDATE otp_audit_log SET detail = '{"attempt":9}' WHERE seq = 1500`);
    const bad = await request(t.app.getHttpServer()).get('/admin/otp/audit/verify').set(auth).expect(200);
    expect(bad.body).toMatchObject({ ok: false, firstBroken: { seq: '1500', reason: 'content does not match its hash' } });
  });
});

describe('external anchors: npm run audit:anchor and audit:verify --anchors (R40)', () => {
  let db: TestDatabase;
  let store: OtpAuditStore;
  let dir: string;
  let file: string;
  const q: AuditQuery = (sql, params) => db.dataSource.query(sql, params);

  beforeAll(async () => {
    db = await createTestDatabase();
    store = new OtpAuditStore(new OtpSql(db.dataSource, { preparedStatements: false }));
    await store.appendChained(Array.from({ length: 30 }, (_, i) => row(i + 1)));
    dir = await mkdtemp(join(tmpdir(), 'otp-anchors-'));
    file = join(dir, 'anchors.jsonl');
  });
  afterAll(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('R40: audit:anchor prints the head seq and hash with a time and appends it to OTP_AUDIT_ANCHOR_FILE; audit:verify --anchors passes untampered', async () => {
    const first = await script('scripts/audit-anchor.ts', [], { DATABASE_URL: db.url, OTP_AUDIT_ANCHOR_FILE: file });
    expect(first.code).toBe(0);
    const printed = JSON.parse(first.stdout.trim());
    const [head] = await q(`SELECT seq::text AS seq, hash FROM otp_audit_head`);
    expect(printed).toEqual({ seq: '30', hash: head.hash, at: expect.any(String) });
    expect(Number.isNaN(Date.parse(printed.at))).toBe(false);
    await store.appendChained(Array.from({ length: 5 }, (_, i) => row(100 + i)));
    expect((await script('scripts/audit-anchor.ts', [], { DATABASE_URL: db.url, OTP_AUDIT_ANCHOR_FILE: file })).code).toBe(0);
    const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.seq)).toEqual(['30', '35']);
    expect(lines[0]).toEqual(printed);

    // Without the file variable it only prints.
    const printOnly = await script('scripts/audit-anchor.ts', [], { DATABASE_URL: db.url, OTP_AUDIT_ANCHOR_FILE: '' });
    expect(JSON.parse(printOnly.stdout.trim()).seq).toBe('35');
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(2);

    await store.appendChained([row(200)]);
    const ok = await script('scripts/audit-verify.ts', ['--anchors', file], { DATABASE_URL: db.url });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/audit chain OK: 36 row\(s\).*2 external anchor\(s\) reached/);
  }, 180_000);

  it('R40: the verifier with anchors names the first anchor past a head moved back', async () => {
    const anchors = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const r = await verifyAfter(db, [
      `DELETE FROM otp_audit_log WHERE seq >= 28`,
      `UPDATE otp_audit_head SET seq = 27, hash = (SELECT hash FROM otp_audit_log WHERE seq = 27)`,
    ], { anchors });
    // The head sits at 27: both anchors are past it, the first one is named.
    expect(r).toMatchObject({ ok: false, firstBroken: { seq: '30' } });
    expect(r.firstBroken?.reason).toMatch(/^anchor seq 30 .*not reached: the chain ends at seq 27/);
  });

  it('R40: deleting the newest rows and moving the head back passes without anchors but fails audit:verify --anchors, naming the anchor', async () => {
    // As the database owner: the inside view stays consistent.
    await q(`DELETE FROM otp_audit_log WHERE seq > 32`);
    await q(`UPDATE otp_audit_head SET seq = 32, hash = (SELECT hash FROM otp_audit_log WHERE seq = 32)`);
    const inside = await script('scripts/audit-verify.ts', [], { DATABASE_URL: db.url });
    expect(inside.code).toBe(0);
    const bad = await script('scripts/audit-verify.ts', ['--anchors', file], { DATABASE_URL: db.url });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/BROKEN at seq 35: anchor seq 35 \(hash [0-9a-f]{12}…, recorded [0-9T:.-]+Z\) not reached: the chain ends at seq 32/);

    // Rebuilding the deleted rows with new content reaches seq 35 again, with another hash.
    await store.appendChained(Array.from({ length: 3 }, (_, i) => row(300 + i)));
    const rebuilt = await script('scripts/audit-verify.ts', [`--anchors=${file}`], { DATABASE_URL: db.url });
    expect(rebuilt.code).toBe(1);
    expect(rebuilt.stderr).toMatch(/BROKEN at seq 35: anchor seq 35 .* not reached: row 35 has another hash/);
  }, 180_000);

  it('R40: audit:verify --audit-retention-seconds takes a number of seconds, else exits 2 with one clear line', async () => {
    const bad = await script('scripts/audit-verify.ts', ['--audit-retention-seconds', 'soon'], { DATABASE_URL: db.url });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^audit:verify failed: --audit-retention-seconds needs a number of seconds/);
  });

  it('audit:verify --anchors with a missing or malformed file exits 2 with one clear line', async () => {
    const missing = await script('scripts/audit-verify.ts', ['--anchors', join(dir, 'nope.jsonl')], { DATABASE_URL: db.url });
    expect(missing.code).toBe(2);
    expect(missing.stderr.trim()).toMatch(/^audit:verify failed: .*nope\.jsonl/);
    const junk = join(dir, 'junk.jsonl');
    await writeFile(junk, '{"seq":"1","hash":"zz"}\n');
    const bad = await script('scripts/audit-verify.ts', ['--anchors', junk], { DATABASE_URL: db.url });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^audit:verify failed: .*junk\.jsonl line 1 is not an anchor/);
  });
});

describe('external anchors at or below the purge anchor (R40)', () => {
  let db: TestDatabase;
  let hashes: Map<string, string>;
  const day = 86_400;
  const recent = () => new Date(Date.now() - 3_600_000).toISOString();
  const anchorAt = (seq: number, at?: string) => ({ seq: String(seq), hash: hashes.get(String(seq))!, ...(at ? { at } : {}) });

  beforeAll(async () => {
    db = await createTestDatabase();
    // Rows dated 2026-01-01 00:00:00.001 to .030: old enough for the purge floor.
    await new OtpAuditStore(new OtpSql(db.dataSource, { preparedStatements: false })).appendChained(Array.from({ length: 30 }, (_, i) => row(i + 1)));
    const rows = await db.dataSource.query(`SELECT seq::text AS seq, hash FROM otp_audit_log`);
    hashes = new Map(rows.map((r: { seq: string; hash: string }) => [r.seq, r.hash]));
  });
  afterAll(async () => db?.drop());

  it('R40: deleting every row and moving the purge anchor and the head past every external anchor fails, naming the anchor', async () => {
    const anchors = [anchorAt(10, recent()), anchorAt(20, recent())];
    const past = await verifyAfter(db, [
      `DELETE FROM otp_audit_log`,
      `UPDATE otp_audit_anchor SET seq = 40, hash = repeat('a', 64), purged_at = now()`,
      `UPDATE otp_audit_head SET seq = 40, hash = repeat('a', 64)`,
    ], { anchors, auditRetentionSeconds: day });
    expect(past).toMatchObject({ ok: false, firstBroken: { seq: '10' } });
    expect(past.firstBroken?.reason).toMatch(/^anchor seq 10 \(hash [0-9a-f]{12}…, recorded [0-9T:.-]+Z\) not reached: .*purge anchor 40/);
    // The same with the purge anchor set to the newest external anchor itself.
    const onto = await verifyAfter(db, [
      `DELETE FROM otp_audit_log`,
      `UPDATE otp_audit_anchor SET seq = 20, hash = '${hashes.get('20')}', purged_at = now()`,
      `UPDATE otp_audit_head SET seq = 20, hash = '${hashes.get('20')}'`,
    ], { anchors, auditRetentionSeconds: day });
    expect(onto).toMatchObject({ ok: false, firstBroken: { seq: '10' } });
    // An anchor below the purge anchor without a recording time cannot be justified either.
    const untimed = await verifyAfter(db, [
      `DELETE FROM otp_audit_log`,
      `UPDATE otp_audit_anchor SET seq = 40, hash = repeat('a', 64)`,
      `UPDATE otp_audit_head SET seq = 40, hash = repeat('a', 64)`,
    ], { anchors: [anchorAt(10)], auditRetentionSeconds: day });
    expect(untimed).toMatchObject({ ok: false, firstBroken: { seq: '10' } });
  });

  it('R40: a real retention purge past an anchor older than the retention period still passes', async () => {
    const purge = [`SELECT otp_audit_purge_before('2026-01-01T00:00:00.020Z')`]; // rows 1-19
    const old = '2026-01-01T00:00:00.010Z';
    const ok = await verifyAfter(db, purge, { anchors: [anchorAt(10, old), anchorAt(25, recent())], auditRetentionSeconds: day });
    expect(ok).toMatchObject({ ok: true, anchorSeq: '19', headSeq: '30', rows: 11, anchorsReached: 1 });
    // The same purge with that anchor recorded within the retention period cannot have happened.
    const tooNew = await verifyAfter(db, purge, { anchors: [anchorAt(10, recent())], auditRetentionSeconds: day });
    expect(tooNew).toMatchObject({ ok: false, firstBroken: { seq: '10' } });
  });
});

describe('IP truncation window, bound personal fields and chained erasure (R38, R40, R30)', () => {
  let db: TestDatabase;
  let store: OtpAuditStore;
  const q: AuditQuery = (sql, params) => db.dataSource.query(sql, params);
  const DAY = 86_400;
  const WINDOW = { ipTruncateSeconds: 30 * DAY };
  const dated = (daysAgo: number, subject: string) => auditRowOf({
    name: 'challenge.issued', outcome: 'success', at: new Date(Date.now() - daysAgo * DAY * 1000),
    recipientIndex: subject, ip: '203.0.113.77', userAgent: 'agent/1', challengeId: `c-${subject}`,
  });
  const seqOf = async (subject: string) =>
    (await q(`SELECT seq::text AS seq FROM otp_audit_log WHERE challenge_id = $1`, [`c-${subject}`]))[0].seq as string;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = new OtpAuditStore(new OtpSql(db.dataSource, { preparedStatements: false }));
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('R38/R40: a row whose IP was truncated earlier than retention.ipTruncateSeconds after its time is a break', async () => {
    await store.appendChained([dated(31, 'old'), dated(2, 'early')]);
    // The database floor (1 day) lets the app role cut a 2-day-old row; the app's window is 30 days.
    const cutAll = [`SELECT otp_audit_truncate_ips_before(now())`];
    const r = await verifyAfter(db, cutAll, WINDOW);
    expect(r).toMatchObject({ ok: false, firstBroken: { seq: await seqOf('early') } });
    expect(r.firstBroken?.reason).toMatch(/^IP truncated before the security window/);
    // With a window the truncation respected, the same rows verify.
    expect(await verifyAfter(db, cutAll, { ipTruncateSeconds: DAY })).toMatchObject({ ok: true });
    // Re-dating the early truncation to the end of the window puts it in the future: caught too.
    const redated = await verifyAfter(db, [...cutAll,
      `UPDATE otp_audit_log SET ip_truncated_at = at + interval '30 days 1 second' WHERE challenge_id = 'c-early'`], WINDOW);
    expect(redated).toMatchObject({ ok: false, firstBroken: { seq: await seqOf('early') } });
    expect(redated.firstBroken?.reason).toMatch(/^IP truncation dated in the future/);
  });

  it('R38/R40: after IP truncation the recipient index, user agent and network stay bound to the row', async () => {
    expect(Number((await q(`SELECT otp_audit_truncate_ips_before(now() - interval '30 days') AS n`))[0].n)).toBe(1);
    expect(await verifyAuditChain(q, WINDOW)).toMatchObject({ ok: true });
    const seq = await seqOf('old');
    const [truncated] = await q(`SELECT ip, recipient_index, user_agent, pii_salt FROM otp_audit_log WHERE seq = $1`, [seq]);
    expect(truncated).toMatchObject({ ip: '203.0.113.0/24', recipient_index: 'old', user_agent: 'agent/1', pii_salt: null });
    const tampered = [
      `UPDATE otp_audit_log SET recipient_index = 'someone-else' WHERE seq = ${seq}`,
      `UPDATE otp_audit_log SET user_agent = 'forged/2' WHERE seq = ${seq}`,
      `UPDATE otp_audit_log SET ip = '198.51.100.0/24' WHERE seq = ${seq}`,
    ];
    for (const sql of tampered) {
      const r = await verifyAfter(db, [sql], WINDOW);
      expect(r).toMatchObject({ ok: false, firstBroken: { seq, reason: 'personal fields do not match their commitment' } });
    }
  });

  it('R30/R40: personal fields set to NULL with no erasure event fail verification, naming the row', async () => {
    await store.appendChained([dated(0, 'quiet'), dated(0, 'bystander')]);
    const seq = await seqOf('quiet');
    expect(await verifyAuditChain(q, { ipTruncateSeconds: DAY })).toMatchObject({ ok: true });
    for (const nulls of ['recipient_index = NULL, ip = NULL, user_agent = NULL, pii_salt = NULL',
      'recipient_index = NULL, ip = NULL, user_agent = NULL, pii_salt = NULL, link_salt = NULL, ip_network = NULL']) {
      const r = await verifyAfter(db, [`UPDATE otp_audit_log SET ${nulls} WHERE seq = ${seq}`], { ipTruncateSeconds: DAY });
      expect(r).toMatchObject({ ok: false, firstBroken: { seq } });
      expect(r.firstBroken?.reason).toMatch(/without an erasure event/);
    }
    // The erase function alone (a compromised app that skips the event) is caught too.
    const silent = await verifyAfter(db, [`SELECT otp_audit_erase_subject('quiet')`], { ipTruncateSeconds: DAY });
    expect(silent).toMatchObject({ ok: false, firstBroken: { seq } });
    expect(silent.firstBroken?.reason).toMatch(/erased by seq \d+, which/);
  });

  it('R30/R40: erasure appends a chained audit.erased event (count and digest of the seqs, no index) that the verifier matches to the rows it emptied', async () => {
    await store.appendChained([dated(0, 'leaver'), dated(0, 'stayer'), dated(0, 'leaver')]);
    const seqs = (await q(`SELECT seq::text AS seq FROM otp_audit_log WHERE recipient_index = 'leaver' ORDER BY seq`)).map((r) => r.seq);
    expect(await store.eraseSubject('leaver')).toBe(2);
    const [event] = await q(`SELECT seq::text AS seq, event, detail, recipient_index FROM otp_audit_log ORDER BY seq DESC LIMIT 1`);
    expect(event).toMatchObject({ event: 'audit.erased', recipient_index: null, detail: { rows: 2, firstSeq: Number(seqs[0]) } });
    expect((event.detail as { seqsDigest: string }).seqsDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(event)).not.toContain('leaver');
    const erased = await q(`SELECT erased_by::text AS by, recipient_index, ip, user_agent FROM otp_audit_log WHERE seq = ANY($1::bigint[])`, [seqs]);
    expect(erased).toEqual(seqs.map(() => ({ by: event.seq, recipient_index: null, ip: null, user_agent: null })));
    expect(await verifyAuditChain(q, { ipTruncateSeconds: DAY })).toMatchObject({ ok: true });

    // Another row emptied and pointed at the same event: the event no longer matches; the row is named.
    const other = await seqOf('stayer');
    const forged = await verifyAfter(db, [
      `UPDATE otp_audit_log SET recipient_index = NULL, ip = NULL, user_agent = NULL, pii_salt = NULL, link_salt = NULL,
         ip_network = NULL, erased_by = ${event.seq} WHERE seq = ${other}`,
    ], { ipTruncateSeconds: DAY });
    expect(forged).toMatchObject({ ok: false, firstBroken: { seq: seqs[0] } });
    expect(forged.firstBroken?.reason).toMatch(/does not match the rows/);
  });

  it('R40: rows written before the v2 body (no link commitment) keep verifying, erased or not', async () => {
    const legacy = [dated(0, 'legacy-a'), dated(0, 'legacy-b')].map((r) => ({ ...r, version: 1 as const, linkCommitment: null, linkSalt: null, ipNetwork: null }));
    await store.appendChained(legacy);
    // An erasure before this migration left no event (the old function); it still verifies.
    await q(`UPDATE otp_audit_log SET recipient_index = NULL, ip = NULL, user_agent = NULL, pii_salt = NULL WHERE challenge_id = 'c-legacy-a'`);
    expect(await verifyAuditChain(q, { ipTruncateSeconds: DAY })).toMatchObject({ ok: true });
    const seq = await seqOf('legacy-b');
    const r = await verifyAfter(db, [`UPDATE otp_audit_log SET body_version = 2 WHERE seq = ${seq}`], { ipTruncateSeconds: DAY });
    expect(r).toMatchObject({ ok: false, firstBroken: { seq, reason: 'content does not match its hash' } });
  });

  it('R38/R40: npm run audit:verify checks the window (default 30 days; --ip-truncate-seconds N for the app\'s own)', async () => {
    // Rows at least a day old (the database floor) are cut now, the 2-day-old one too: early for a 30-day window.
    await q(`SELECT otp_audit_truncate_ips_before(now())`);
    const early = await seqOf('early');
    const strict = await script('scripts/audit-verify.ts', [], { DATABASE_URL: db.url });
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(new RegExp(`BROKEN at seq ${early}: IP truncated before the security window`));
    const day = await script('scripts/audit-verify.ts', ['--ip-truncate-seconds', String(DAY)], { DATABASE_URL: db.url });
    expect(day).toMatchObject({ code: 0 });
    const junk = await script('scripts/audit-verify.ts', ['--ip-truncate-seconds', 'a while'], { DATABASE_URL: db.url });
    expect(junk.code).toBe(2);
    expect(junk.stderr.trim()).toBe('audit:verify failed: --ip-truncate-seconds needs a number of seconds');
  }, 120_000);
});
