import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { OtpAuditService, OtpErasureService, OtpInvalidationService, OtpInvalidError, OtpRetentionService, OtpService, untaggedChallengeId } from '../src/otp';
import { planKeyRotation } from '../src/otp/ops/otp-key-rotation';
import { OtpOpsStore } from '../src/otp/ops/otp-ops.store';
import { OtpAuditStore } from '../src/otp/audit/otp-audit.store';
import { auditRowOf } from '../src/otp/audit/otp-audit.writer';
import { OtpSql } from '../src/otp/persistence/otp-sql';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { TestApp, testKeyLine } from './support/test-app';
import { testApp } from './support/test-app.builder';

const run = promisify(execFile);

describe('operations on PostgreSQL: retention, erasure, invalidate-all, key rotation', () => {
  let db: TestDatabase;
  let t: TestApp;
  let otp: OtpService;
  const keys = testKeyLine('k1');
  const encryptionKeys = testKeyLine('e1');

  beforeAll(async () => {
    db = await createTestDatabase();
    // A table another module might add, keyed by recipient_index: purge and erasure find it by its columns.
    await db.dataSource.query(`CREATE TABLE otp_proof_tokens (id serial PRIMARY KEY, recipient_index text NOT NULL,
      expires_at timestamptz NOT NULL, redeemed_at timestamptz, revoked_at timestamptz)`);
    t = await testApp().database(db, { drop: true }).env({ OTP_KEYS: keys, OTP_ENCRYPTION_KEYS: encryptionKeys }).boot();
    otp = t.app.get(OtpService);
  });
  afterAll(async () => t?.close());

  let n = 0;
  const email = () => `ops.user${++n}.${Date.now()}@example.com`;
  const issued = async (address: string, purpose = 'login') => {
    const c = await otp.issue({ email: address, purpose, ip: '203.0.113.50', userAgent: 'ops-agent' });
    return { ...c, code: await t.codeFor(c.challengeId) };
  };
  const count = async (sql: string, params: unknown[] = []) => Number((await db.dataSource.query(sql, params))[0].n);

  it('R8/R42: the purge deletes ended challenges, lapsed budgets, spent rows of other OTP tables, keeps recent audit events and a verifiable chain', async () => {
    const live = await issued(email());
    const ended = await issued(email());
    await otp.verify({ challengeId: ended.challengeId, code: ended.code });
    const recent = await issued(email());
    await otp.verify({ challengeId: recent.challengeId, code: recent.code });
    await db.dataSource.query(`UPDATE otp_challenges SET consumed_at = now() - interval '2 days' WHERE id = $1`, [ended.challengeId]);
    await db.dataSource.query(`INSERT INTO otp_failure_budgets VALUES ('old-subject', now() - interval '2 days', 3), ('fresh-subject', now(), 3)`);
    await db.dataSource.query(`INSERT INTO otp_proof_tokens (recipient_index, expires_at, redeemed_at) VALUES
      ('a', now() + interval '1 hour', now() - interval '8 days'), ('b', now() + interval '1 hour', NULL), ('c', now() - interval '9 days', NULL)`);
    // The ended challenge's mail was delivered long ago; the live one's is recent.
    await db.dataSource.query(`UPDATE otp_mail_outbox SET finished_at = now() - interval '8 days' WHERE challenge_id = $1`, [ended.challengeId]);
    const audit = t.app.get(OtpAuditService);
    await audit.verifyChain();
    const [{ n: before }] = await db.dataSource.query(`SELECT count(*)::int AS n FROM otp_audit_log`);
    // The audit writer's batch ids only have to outlive its retries: an old one goes, the newest stays.
    const old: string[] = (await db.dataSource.query(`SELECT id FROM otp_audit_batch ORDER BY last_seq DESC OFFSET 1`)).map((b: { id: string }) => b.id);
    expect(old.length).toBeGreaterThan(0);
    await db.dataSource.query(`UPDATE otp_audit_batch SET appended_at = now() - interval '8 days' WHERE id = ANY($1)`, [old]);
    const retention = t.app.get(OtpRetentionService);
    const report = await retention.purge();
    // Budgets: the lapsed one, and the two rows the right codes above left with no window (R10 re-check).
    expect(report).toMatchObject({ otp_challenges: 1, otp_failure_budgets: 3, otp_proof_tokens: 2, otp_audit_log: 0, otp_audit_batch: old.length });
    expect(await count(`SELECT count(*)::int AS n FROM otp_audit_batch`)).toBeGreaterThanOrEqual(1);
    expect(await count(`SELECT count(*)::int AS n FROM otp_failure_budgets WHERE recipient_index = 'old-subject'`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM otp_mail_outbox WHERE challenge_id = $1`, [ended.challengeId])).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM otp_challenges WHERE id = ANY($1)`, [[live.challengeId, recent.challengeId]])).toBe(2);
    expect(await count(`SELECT count(*)::int AS n FROM otp_failure_budgets WHERE recipient_index = 'fresh-subject'`)).toBe(1);
    expect(await count(`SELECT count(*)::int AS n FROM otp_proof_tokens WHERE recipient_index = 'b'`)).toBe(1);
    expect(await count(`SELECT count(*)::int AS n FROM otp_mail_outbox WHERE challenge_id = ANY($1)`, [[live.challengeId, recent.challengeId]])).toBe(2);
    expect(before).toBeGreaterThan(0);
    await expect(audit.verifyChain()).resolves.toMatchObject({ ok: true });
  });

  it('R8/R38/R42: a purge step that fails (an extension table the purge cannot delete from) stops none of the others; the purge then fails naming it', async () => {
    const ended = await issued(email());
    await otp.verify({ challengeId: ended.challengeId, code: ended.code });
    await db.dataSource.query(`UPDATE otp_mail_outbox SET finished_at = now() - interval '8 days' WHERE challenge_id = $1`, [ended.challengeId]);
    const audit = t.app.get(OtpAuditService);
    await audit.verifyChain();
    const [{ id: batch }] = await db.dataSource.query(`SELECT id FROM otp_audit_batch ORDER BY last_seq LIMIT 1`);
    await db.dataSource.query(`UPDATE otp_audit_batch SET appended_at = now() - interval '8 days' WHERE id = $1`, [batch]);
    // An audit row from before the IP window (appended at the end of the chain, as a late writer would).
    await audit.verifyChain();
    const oldAt = new Date(Date.now() - 40 * 86_400_000);
    await new OtpAuditStore(t.app.get(OtpSql)).appendChained([auditRowOf({ name: 'verify.failed', outcome: 'failure', at: oldAt, ip: '198.51.100.77', requestId: 'r-old-ip' })]);
    // Sorted before the module's own spent-row tables, and refusing every DELETE.
    await db.dataSource.query(`CREATE TABLE otp_aaa_broken (expires_at timestamptz NOT NULL)`);
    await db.dataSource.query(`INSERT INTO otp_aaa_broken VALUES (now() - interval '9 days')`);
    await db.dataSource.query(`CREATE FUNCTION otp_aaa_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no deletes here'; END $$`);
    await db.dataSource.query(`CREATE TRIGGER otp_aaa_refuse BEFORE DELETE ON otp_aaa_broken FOR EACH STATEMENT EXECUTE FUNCTION otp_aaa_refuse()`);
    try {
      await expect(t.app.get(OtpRetentionService).purge()).rejects.toThrow(/otp_aaa_broken/);
      expect(await count(`SELECT count(*)::int AS n FROM otp_mail_outbox WHERE challenge_id = $1`, [ended.challengeId])).toBe(0);
      expect(await count(`SELECT count(*)::int AS n FROM otp_audit_batch WHERE id = $1`, [batch])).toBe(0);
      expect(await count(`SELECT count(*)::int AS n FROM otp_aaa_broken`)).toBe(1);
      // IP truncation (R38) ran after the failed table.
      const [truncated] = await db.dataSource.query(`SELECT ip FROM otp_audit_log WHERE request_id = 'r-old-ip'`);
      expect(truncated.ip).toBe('198.51.100.0/24');
      // The trail says the purge failed, and where.
      await audit.verifyChain();
      const [event] = await db.dataSource.query(`SELECT outcome, detail FROM otp_audit_log WHERE event = 'retention.purged' ORDER BY seq DESC LIMIT 1`);
      expect(event).toMatchObject({ outcome: 'failure', detail: { failedSteps: 1, failed: 'otp_aaa_broken' } });
      // From the command line: what the other steps did on stdout, the failure on stderr, exit 1.
      const cli = await run('npx', ['ts-node', '--transpile-only', 'scripts/otp-purge.ts'], {
        env: { ...process.env, DATABASE_URL: db.url, OTP_KEYS: keys, OTP_ENCRYPTION_KEYS: encryptionKeys },
      }).then(() => ({ code: 0, stdout: '', stderr: '' }), (err: { code: number; stdout: string; stderr: string }) => err);
      expect(cli.code).toBe(1);
      expect(JSON.parse(cli.stdout.trim().split('\n').at(-1)!)).toMatchObject({ purged: { otp_challenges: expect.any(Number) }, failed: ['otp_aaa_broken'] });
      expect(cli.stderr).toMatch(/retention purge failed for otp_aaa_broken/);
    } finally {
      await db.dataSource.query(`DROP TABLE otp_aaa_broken`);
      await db.dataSource.query(`DROP FUNCTION otp_aaa_refuse()`);
    }
  });

  it('R8/R42: when the extension tables cannot be listed, the module\'s own spent rows are purged all the same', async () => {
    const ended = await issued(email());
    await otp.verify({ challengeId: ended.challengeId, code: ended.code });
    await db.dataSource.query(`UPDATE otp_mail_outbox SET finished_at = now() - interval '8 days' WHERE challenge_id = $1`, [ended.challengeId]);
    const listing = jest.spyOn(t.app.get(OtpOpsStore), 'extensionTables').mockRejectedValueOnce(new Error('listing failed'));
    try {
      await expect(t.app.get(OtpRetentionService).purge()).rejects.toThrow(/otp_\* extension tables/);
    } finally {
      listing.mockRestore();
    }
    expect(await count(`SELECT count(*)::int AS n FROM otp_mail_outbox WHERE challenge_id = $1`, [ended.challengeId])).toBe(0);
  });

  it('R30: erasure removes every row linkable to the address, in every table with recipient_index, and the chain still verifies', async () => {
    const victim = email();
    const bystander = email();
    const index = otp.recipientIndex(victim);
    const c = await issued(victim);
    await expect(otp.verify({ challengeId: c.challengeId, code: c.code === '000000' ? '000001' : '000000' })).rejects.toBeInstanceOf(OtpInvalidError);
    await issued(victim, 'verify-email');
    await issued(bystander);
    await db.dataSource.query(`INSERT INTO otp_proof_tokens (recipient_index, expires_at) VALUES ($1, now() + interval '1 hour')`, [index]);
    const audit = t.app.get(OtpAuditService);
    expect((await audit.list({ email: victim })).length).toBeGreaterThanOrEqual(3);

    const report = await t.app.get(OtpErasureService).eraseEmail(victim);
    expect(report).toMatchObject({ otp_challenges: 2, otp_failure_budgets: 1, otp_proof_tokens: 1 });
    expect(report.otp_audit_log).toBeGreaterThanOrEqual(3);

    // No row of any table holds the index any more, nor the address, in any column.
    const tables: { table_name: string }[] = await db.dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`);
    for (const { table_name } of tables) {
      const dump = JSON.stringify(await db.dataSource.query(`SELECT * FROM "${table_name}"`));
      expect(dump).not.toContain(index);
      expect(dump.toLowerCase()).not.toContain(victim.toLowerCase());
    }
    expect(await audit.list({ email: victim })).toEqual([]);
    expect((await audit.list({ email: bystander })).length).toBeGreaterThan(0);
    // Audit rows keep the challenge id at rest (its recipient tag zeroed): nothing of the address.
    expect(await count(`SELECT count(*)::int AS n FROM otp_audit_log WHERE challenge_id = $1 AND ip IS NULL AND pii_salt IS NULL`, [untaggedChallengeId(c.challengeId)])).toBeGreaterThan(0);
    await expect(audit.verifyChain()).resolves.toMatchObject({ ok: true });
    expect((await audit.list({ event: 'records.erased' })).at(-1)?.recipientIndex).toBeNull();
    // The chained erasure event, matched by the verifier to the rows it emptied (R40).
    const erased = (await audit.list({ event: 'audit.erased' })).at(-1);
    expect(erased).toMatchObject({ recipientIndex: null, ip: null, detail: { rows: report.otp_audit_log } });
  });

  it('R29: invalidate-all ends every live challenge and token; a code issued before it no longer verifies', async () => {
    const a = await issued(email());
    const b = await issued(email());
    await db.dataSource.query(`INSERT INTO otp_proof_tokens (recipient_index, expires_at) VALUES ('live-token', now() + interval '1 hour')`);
    // A token table without revoked_at: unused rows expire now, rows recording a use stay as they are.
    await db.dataSource.query(`CREATE TABLE otp_session_tokens (id text PRIMARY KEY, expires_at timestamptz NOT NULL, redeemed_at timestamptz)`);
    await db.dataSource.query(`INSERT INTO otp_session_tokens VALUES ('unused', now() + interval '1 hour', NULL), ('used', now() + interval '1 hour', now())`);
    const report = await t.app.get(OtpInvalidationService).invalidateAll();
    expect(report.otp_session_tokens).toBe(1);
    const session = await db.dataSource.query(`SELECT id, expires_at <= now() AS ended FROM otp_session_tokens ORDER BY id`);
    expect(session).toEqual([{ id: 'unused', ended: true }, { id: 'used', ended: false }]);
    expect(report.otp_challenges).toBeGreaterThanOrEqual(2);
    expect(report.otp_proof_tokens).toBeGreaterThanOrEqual(1);
    await expect(otp.verify({ challengeId: a.challengeId, code: a.code })).rejects.toBeInstanceOf(OtpInvalidError);
    await expect(otp.verify({ challengeId: b.challengeId, code: b.code })).rejects.toBeInstanceOf(OtpInvalidError);
    expect(await count(`SELECT count(*)::int AS n FROM otp_proof_tokens WHERE revoked_at IS NULL`)).toBe(0);
    expect(await count(`SELECT count(*)::int AS n FROM otp_challenges WHERE consumed_at IS NULL AND superseded_at IS NULL`)).toBe(0);
    const fresh = await issued(email());
    await expect(otp.verify({ challengeId: fresh.challengeId, code: fresh.code })).resolves.toBeDefined();
  });

  it('key rotation: codes issued under the previous key keep verifying, the address index is unchanged, key.rotated is audited', async () => {
    const address = email();
    const before = await issued(address);
    const indexBefore = otp.recipientIndex(address);
    const plan = planKeyRotation(keys, false);
    expect(plan.keys.split(',')).toHaveLength(2);
    expect(plan.keys.endsWith(keys)).toBe(true);
    expect(plan.steps.join('\n')).toMatch(/remove the retired key/);

    const rotated = await testApp()
      .database(db)
      .env({ OTP_KEYS: plan.keys, OTP_INDEX_KEY: plan.indexKey, OTP_ENCRYPTION_KEYS: encryptionKeys })
      .boot();
    try {
      const otp2 = rotated.app.get(OtpService);
      expect(otp2.recipientIndex(address)).toBe(indexBefore);
      await expect(otp2.verify({ challengeId: before.challengeId, code: before.code })).resolves.toMatchObject({ challengeId: before.challengeId });
      const c = await otp2.issue({ email: email() });
      const [row] = await db.dataSource.query(`SELECT code_digests FROM otp_challenges WHERE id = $1`, [c.challengeId]);
      expect(row.code_digests[0].startsWith(`${plan.newKeyId}:`)).toBe(true);
      const events = await rotated.app.get(OtpAuditService).list({ event: 'key.rotated' });
      expect(events.at(-1)?.detail).toMatchObject({ from: 'k1', to: plan.newKeyId });
      expect(JSON.stringify(events)).not.toContain(keys.split(':')[1]);
    } finally {
      await rotated.close();
    }
  });

  it('npm run otp:keys -- rotate prints the new key line and the steps; otp:erase works from the command line', async () => {
    const out = await run('npx', ['ts-node', '--transpile-only', 'scripts/otp-keys.ts', 'rotate'], { env: { ...process.env, OTP_KEYS: keys } });
    expect(out.stdout).toMatch(/^OTP_KEYS=k2:[A-Za-z0-9+/=]{44},k1:/m);
    expect(out.stdout).toMatch(/^OTP_INDEX_KEY=/m);
    expect(out.stdout).toMatch(/1\. /);

    const address = email();
    await issued(address);
    const erase = await run('npx', ['ts-node', '--transpile-only', 'scripts/otp-erase.ts', '--email', address], {
      env: { ...process.env, DATABASE_URL: db.url, OTP_KEYS: keys, OTP_ENCRYPTION_KEYS: encryptionKeys },
    });
    expect(JSON.parse(erase.stdout.trim().split('\n').at(-1)!).erased.otp_challenges).toBe(1);
    expect(await count(`SELECT count(*)::int AS n FROM otp_challenges WHERE recipient_index = $1`, [otp.recipientIndex(address)])).toBe(0);
  });

  it('R42: audit events past their period are purged through the anchor; audit:verify still passes', async () => {
    const rows = await t.app.get(OtpAuditService).list({ limit: 1000 });
    // (Runs last: it purges the whole trail.) An app whose audit period is 1 ms purges everything older.
    const other = await testApp().database(db).env({ OTP_KEYS: keys, OTP_ENCRYPTION_KEYS: encryptionKeys }).boot();
    try {
      const retention = other.app.get(OtpRetentionService);
      // The resolved options are frozen: this one service gets its own copy with the shorter period.
      Object.assign(retention, { options: { ...retention.options, auditSeconds: 0.001 } });
      // The DBA's floor (30 days by default) would keep these fresh rows; lower it, as only a DBA can.
      await db.dataSource.query(`UPDATE otp_audit_policy SET min_retention = interval '0 seconds'`);
      const report = await retention.purge();
      expect(report.otp_audit_log).toBeGreaterThanOrEqual(rows.length);
      const verified = await other.app.get(OtpAuditService).verifyChain();
      expect(verified.ok).toBe(true);
      expect(Number(verified.anchorSeq)).toBeGreaterThanOrEqual(rows.length);
    } finally {
      await other.close();
    }
  });
});
