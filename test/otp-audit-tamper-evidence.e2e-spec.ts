import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import request from 'supertest';
import { AuditQuery, verifyAuditChain, VerifyOptions } from '../src/otp/audit/audit-chain.verifier';
import { AuditRowInput, OtpAuditStore } from '../src/otp/audit/otp-audit.store';
import { auditRowOf } from '../src/otp/audit/otp-audit.writer';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { bootTestApp, HTTP_ADAPTERS, TestApp } from './support/test-app';

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
    await new OtpAuditStore(db.dataSource).appendChained(Array.from({ length: 2500 }, (_, i) => row(i + 1)));
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
  });
});

describe.each(HTTP_ADAPTERS)('GET /admin/otp/audit/verify on a chain of several pages (%s, R40)', (adapter) => {
  let db: TestDatabase;
  let t: TestApp;
  const ADMIN = `test-admin-token-${Date.now()}`;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await bootTestApp({ DATABASE_URL: db.url, OTP_ADMIN_TOKEN: ADMIN, HTTP_ADAPTER: adapter });
    await new OtpAuditStore(db.dataSource).appendChained(Array.from({ length: 2500 }, (_, i) => row(i + 1)));
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

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
