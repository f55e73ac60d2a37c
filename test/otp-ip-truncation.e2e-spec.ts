import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { OtpAuditService, OtpEventBus, OtpRetentionService, OtpService } from '../src/otp';
import { OtpAuditWriter } from '../src/otp/audit/otp-audit.writer';
import { dumpAllTables } from './support/table-dump';
import { RELAXED_RATE_LIMITS } from './support/test-app';
import { asAuditAppRole } from './support/app-role';
import type { TestDatabase } from './support/test-database';
import { BootedTestApp, testApp } from './support/test-app.builder';

const run = promisify(execFile);
const DAY = 86_400_000;

/** R38: past the security window, IPs are cut to their network everywhere, and the audit chain still verifies. */
describe('IP truncation in the retention purge (real PostgreSQL)', () => {
  let db: TestDatabase;
  let t: BootedTestApp;

  beforeAll(async () => {
    // No dispatcher: issued mail stays pending in the outbox, with its encrypted payload.
    t = await testApp().withDatabase().env({ MAIL_DISPATCHER: 'false', ...RELAXED_RATE_LIMITS }).boot();
    db = t.db;
  });
  afterAll(async () => t?.close());

  const q = (sql: string, params: unknown[] = []) => db.dataSource.query(sql, params);
  const auditRow = async (challengeId: string) =>
    (await q(`SELECT ip, user_agent, recipient_index, pii_salt, ip_truncated_at FROM otp_audit_log WHERE challenge_id = $1`, [challengeId]))[0];

  /** Audit events written now but dated `daysAgo` (the writer takes the event's own time). */
  async function pastEvents(daysAgo: number, ips: string[]): Promise<string[]> {
    const bus = t.app.get(OtpEventBus);
    const ids = ips.map(() => `t-${randomBytes(6).toString('hex')}`);
    ips.forEach((ip, i) => bus.emit({
      name: 'challenge.issued', outcome: 'success', challengeId: ids[i], recipientIndex: `subject-${ids[i]}`, ip,
      userAgent: 'old-agent', at: new Date(Date.now() - daysAgo * DAY),
    }));
    await t.app.get(OtpAuditWriter).flush();
    return ids;
  }

  it('cuts old audit IPs to /24 and /48, keeps recent ones exact, wipes old delivery data, and the chain verifies', async () => {
    const [v4, v6, mapped, bogus] = await pastEvents(31, ['203.0.113.77', '2001:db8:abcd:12:1:2:3:4', '::ffff:198.51.100.9', 'not-an-ip']);
    const [recent] = await pastEvents(29, ['192.0.2.200']);
    const otp = t.app.get(OtpService);
    const old = await otp.issue({ email: `old.${Date.now()}@example.com`, ip: '198.51.100.23', userAgent: 'old-browser' });
    const fresh = await otp.issue({ email: `fresh.${Date.now()}@example.com`, ip: '198.51.100.24', userAgent: 'new-browser' });
    await q(`UPDATE otp_challenges SET created_at = now() - interval '31 days' WHERE id = $1`, [old.challengeId]);
    await q(`UPDATE otp_mail_outbox SET created_at = now() - interval '31 days' WHERE challenge_id = $1`, [old.challengeId]);
    await t.app.get(OtpAuditWriter).flush();
    const audit = t.app.get(OtpAuditService);
    expect((await audit.verifyChain()).ok).toBe(true);

    const report = await t.app.get(OtpRetentionService).purge();

    expect(report).toMatchObject({ otp_audit_log_ips_truncated: 4, otp_challenges_deliveries_wiped: 1, otp_mail_outbox_abandoned: 1 });
    expect(await auditRow(v4)).toMatchObject({ ip: '203.0.113.0/24', pii_salt: null, recipient_index: `subject-${v4}`, user_agent: 'old-agent' });
    expect((await auditRow(v4)).ip_truncated_at).toBeInstanceOf(Date);
    expect(await auditRow(v6)).toMatchObject({ ip: '2001:db8:abcd::/48', pii_salt: null });
    expect(await auditRow(mapped)).toMatchObject({ ip: '198.51.100.0/24', pii_salt: null });
    expect(await auditRow(bogus)).toMatchObject({ ip: null, pii_salt: null });
    const kept = await auditRow(recent);
    expect(kept).toMatchObject({ ip: '192.0.2.200', ip_truncated_at: null });
    expect(kept.pii_salt).not.toBeNull();

    const [oldChallenge] = await q(`SELECT delivery_ciphertext FROM otp_challenges WHERE id = $1`, [old.challengeId]);
    expect(oldChallenge.delivery_ciphertext).toBeNull();
    const [oldMail] = await q(`SELECT status, payload_ciphertext, last_error FROM otp_mail_outbox WHERE challenge_id = $1`, [old.challengeId]);
    expect(oldMail).toEqual({ status: 'abandoned', payload_ciphertext: null, last_error: 'retention' });
    const [freshChallenge] = await q(`SELECT delivery_ciphertext FROM otp_challenges WHERE id = $1`, [fresh.challengeId]);
    expect(freshChallenge.delivery_ciphertext).not.toBeNull();
    const [freshMail] = await q(`SELECT status, payload_ciphertext FROM otp_mail_outbox WHERE challenge_id = $1`, [fresh.challengeId]);
    expect(freshMail.status).toBe('pending');
    expect(freshMail.payload_ciphertext).not.toBeNull();

    const dump = await dumpAllTables(db);
    for (const ip of ['203.0.113.77', '2001:db8:abcd:12:1:2:3:4', '198.51.100.9']) expect(dump).not.toContain(ip);

    const verified = await audit.verifyChain();
    expect(verified).toMatchObject({ ok: true });
    const cli = await run('npx', ['ts-node', '--transpile-only', 'scripts/audit-verify.ts'], { env: { ...process.env, DATABASE_URL: db.url } });
    expect(cli.stdout).toMatch(/audit chain OK/);

    // A second run has nothing left to cut.
    expect((await t.app.get(OtpRetentionService).purge()).otp_audit_log_ips_truncated).toBe(0);
  });

  it('an app role granted by otp_audit_grant_app_role can run the truncation but still cannot UPDATE the log', async () => {
    await asAuditAppRole(db.url, async (admin) => {
      await expect(admin.query(`SELECT otp_audit_truncate_ips_before(now() - interval '30 days')`)).resolves.toBeDefined();
      await admin.query(`SAVEPOINT s`);
      await expect(admin.query(`UPDATE otp_audit_log SET ip = NULL`)).rejects.toMatchObject({ code: '42501' });
    });
  });

  it('verification fails when a recent row is marked truncated but still holds a full IP (forged truncation, before the window)', async () => {
    const [forged] = await pastEvents(1, ['192.0.2.201']);
    const [{ pii_salt: salt }] = await q(`SELECT pii_salt FROM otp_audit_log WHERE challenge_id = $1`, [forged]);
    await q(`UPDATE otp_audit_log SET pii_salt = NULL, ip_truncated_at = now() WHERE challenge_id = $1`, [forged]);
    const [{ seq }] = await q(`SELECT seq::text AS seq FROM otp_audit_log WHERE challenge_id = $1`, [forged]);
    const result = await t.app.get(OtpAuditService).verifyChain();
    expect(result).toMatchObject({ ok: false, firstBroken: { seq } });
    expect(result.firstBroken?.reason).toMatch(/^IP truncated before the security window/);
    // Past the window the full IP is still refused: the link commitment binds the network only.
    await q(`UPDATE otp_audit_log SET ip_truncated_at = NULL, pii_salt = $2 WHERE challenge_id = $1`, [forged, salt]);
    const [late] = await pastEvents(31, ['192.0.2.202']);
    await q(`UPDATE otp_audit_log SET pii_salt = NULL, ip_truncated_at = now() WHERE challenge_id = $1`, [late]);
    const [{ seq: lateSeq }] = await q(`SELECT seq::text AS seq FROM otp_audit_log WHERE challenge_id = $1`, [late]);
    expect(await t.app.get(OtpAuditService).verifyChain()).toMatchObject({
      ok: false, firstBroken: { seq: lateSeq, reason: 'personal fields do not match their commitment' },
    });
  });
});
