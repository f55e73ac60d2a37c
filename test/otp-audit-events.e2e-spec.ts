import request from 'supertest';
import { OtpAuditService, OtpEventBus, OtpService, untaggedChallengeId } from '../src/otp';
import { OtpAuditWriter } from '../src/otp/audit/otp-audit.writer';
import { failureDelayPassed } from './support/failure-delay';
import type { TestDatabase } from './support/test-database';
import { RELAXED_RATE_LIMITS } from './support/test-app';
import { BootedTestApp, testApp } from './support/test-app.builder';

describe('audit trail of the OTP flows (R17, R39)', () => {
  let db: TestDatabase;
  let t: BootedTestApp;
  let otp: OtpService;
  let audit: OtpAuditService;
  const ADMIN = 'test-admin-token-' + Date.now();
  const codes: string[] = [];

  beforeAll(async () => {
    t = await testApp().withDatabase().env({ OTP_ADMIN_TOKEN: ADMIN, ...RELAXED_RATE_LIMITS }).boot();
    db = t.db;
    otp = t.app.get(OtpService);
    audit = t.app.get(OtpAuditService);
  });
  afterAll(async () => t?.close());

  const http = () => request(t.app.getHttpServer());
  let n = 0;
  const email = () => `Audit.User${++n}.${Date.now()}@Example.com`;

  async function issue(address: string, requestId: string) {
    const res = await http().post('/auth/otp/challenges').set('User-Agent', 'jest-agent/1.0').set('X-Request-Id', requestId).send({ email: address }).expect(202);
    const code = await t.codeFor(res.body.challengeId);
    codes.push(code);
    return { challengeId: res.body.challengeId as string, code };
  }

  it('R39: issue and verify are recorded with time, event, OWASP name, subject index, challenge, IP, user agent and request id', async () => {
    const address = email();
    const c = await issue(address, 'req-issue-1');
    const wrong = c.code === '000000' ? '000001' : '000000';
    await http().post(`/auth/otp/challenges/${c.challengeId}/verify`).set('X-Request-Id', 'req-wrong-1').send({ code: wrong }).expect(401);
    await http().post(`/auth/otp/challenges/${c.challengeId}/verify`).set('X-Request-Id', 'req-right-1').send({ code: c.code }).expect(200);
    await http().post(`/auth/otp/challenges/${c.challengeId}/verify`).set('X-Request-Id', 'req-again-1').send({ code: c.code }).expect(401);

    const rows = await audit.list({ challengeId: c.challengeId });
    const by = (event: string, requestId: string) => rows.find((r) => r.event === event && r.requestId === requestId);
    const index = otp.recipientIndex(address);
    expect(by('challenge.issued', 'req-issue-1')).toMatchObject({
      owasp: 'authn_token_created', outcome: 'success', purpose: 'login', recipientIndex: index,
      userAgent: 'jest-agent/1.0', ip: expect.stringMatching(/127\.0\.0\.1$/),
    });
    expect(by('verify.failed', 'req-wrong-1')).toMatchObject({
      owasp: 'authn_login_fail', outcome: 'failure', recipientIndex: index, detail: expect.objectContaining({ reason: 'wrong_code', attempt: 1, maxAttempts: 5 }),
    });
    expect(by('verify.succeeded', 'req-right-1')).toMatchObject({ owasp: 'authn_login_success', outcome: 'success', recipientIndex: index });
    expect(by('verify.failed', 'req-again-1')).toMatchObject({ owasp: 'authn_login_fail', detail: expect.objectContaining({ reason: 'not_live' }) });
    for (const r of rows) expect(r.at.getTime()).toBeLessThanOrEqual(Date.now());

    // The interceptor records the HTTP outcome of each @Audited route, with the same request id.
    const httpRows = await audit.list({ event: 'otp.verify' });
    expect(httpRows.find((r) => r.requestId === 'req-wrong-1')).toMatchObject({ outcome: 'failure', detail: { status: 401, error: 'otp.invalid' } });
    expect(httpRows.find((r) => r.requestId === 'req-right-1')).toMatchObject({ outcome: 'success', detail: { status: 200 } });
    const issued = await audit.list({ event: 'otp.issue' });
    expect(issued.find((r) => r.requestId === 'req-issue-1')).toMatchObject({ outcome: 'success', userAgent: 'jest-agent/1.0' });
  });

  it('R39: a request the pipes refuse is recorded as the route\'s failure (400), one a guard refuses is not', async () => {
    await http().post('/auth/otp/challenges').set('X-Request-Id', 'req-pipe-body').send({ email: 'not an address' }).expect(400);
    await http().post('/auth/otp/challenges/not-a-uuid/verify').set('X-Request-Id', 'req-pipe-id').send({ code: '123456' }).expect(400);
    await http().post('/auth/otp/challenges').set('X-Request-Id', 'req-guard-type').set('Content-Type', 'text/plain')
      .send(JSON.stringify({ email: email() })).expect(415);
    await http().post('/auth/otp/challenges?email=x').set('X-Request-Id', 'req-guard-query').send({ email: email() }).expect(400);
    const issued = await audit.list({ event: 'otp.issue' });
    const verified = await audit.list({ event: 'otp.verify' });
    expect(issued.find((r) => r.requestId === 'req-pipe-body')).toMatchObject({ outcome: 'failure', detail: { status: 400, error: 'http' } });
    expect(verified.find((r) => r.requestId === 'req-pipe-id')).toMatchObject({ outcome: 'failure', detail: { status: 400, error: 'http' } });
    expect(issued.filter((r) => r.requestId === 'req-pipe-body')).toHaveLength(1);
    expect(issued.find((r) => r.requestId === 'req-guard-type' || r.requestId === 'req-guard-query')).toBeUndefined();
  });

  it('R17: exhausting a challenge and spending the failure budget give authn_login_fail_max and authn_login_lock', async () => {
    const address = email();
    let last = '';
    for (let i = 0; i < 4; i++) {
      const c = await issue(address, `req-budget-${i}`);
      last = c.challengeId;
      const wrong = c.code === '000000' ? '000001' : '000000';
      for (let k = 0; k < 5; k++) {
        await failureDelayPassed(db, otp.recipientIndex(address));
        await http().post(`/auth/otp/challenges/${c.challengeId}/verify`).send({ code: wrong }).expect(401);
      }
    }
    const rows = await audit.list({ email: address, limit: 1000 });
    expect(rows.filter((r) => r.event === 'challenge.exhausted' && r.owasp === 'authn_login_fail_max')).toHaveLength(4);
    const lock = rows.find((r) => r.event === 'budget.spent');
    expect(lock).toMatchObject({ owasp: 'authn_login_lock', challengeId: untaggedChallengeId(last), recipientIndex: otp.recipientIndex(address) });
  });

  it('R17: a resend inside the cooldown is recorded as excess_rate_limit_exceeded', async () => {
    const c = await issue(email(), 'req-resend-issue');
    await http().post(`/auth/otp/challenges/${c.challengeId}/resend`).set('X-Request-Id', 'req-resend-1').expect(429);
    const rows = await audit.list({ challengeId: c.challengeId });
    expect(rows.find((r) => r.event === 'challenge.resent')).toMatchObject({ owasp: 'excess_rate_limit_exceeded', outcome: 'failure', requestId: 'req-resend-1' });
  });

  it('R39: CR/LF in a user agent are stored encoded; unknown event names flow through unchanged', async () => {
    t.app.get(OtpEventBus).emit({ name: 'mail.abandoned', outcome: 'failure', userAgent: 'evil\r\nforged: line', detail: { attempts: 5 } });
    const [row] = await audit.list({ event: 'mail.abandoned' });
    expect(row).toMatchObject({ userAgent: 'evil\\r\\nforged: line', owasp: null, detail: { attempts: 5 } });
  });

  it('no audit row holds a code or an address, in any column', async () => {
    const rows: Record<string, unknown>[] = await db.dataSource.query(`SELECT * FROM otp_audit_log`);
    expect(rows.length).toBeGreaterThan(20);
    const text = JSON.stringify(rows).toLowerCase();
    expect(text).not.toMatch(/example\.com/);
    for (const code of codes) expect(text).not.toContain(`"${code}"`);
    for (const code of codes) expect(text).not.toMatch(new RegExp(`[^0-9a-z]${code}[^0-9a-z]`));
  });

  it('the audit chain verifies after the flows', async () => {
    await expect(audit.verifyChain()).resolves.toMatchObject({ ok: true });
  });

  it('pending events are written when the app closes (graceful shutdown flush)', async () => {
    const other = await testApp().database(db).boot();
    const writer = other.app.get(OtpAuditWriter);
    const c = await other.app.get(OtpService).issue({ email: email() });
    expect(writer.pending).toBeGreaterThan(0);
    await other.close();
    const [{ count }] = await db.dataSource.query(`SELECT count(*)::int AS count FROM otp_audit_log WHERE challenge_id = $1`, [untaggedChallengeId(c.challengeId)]);
    expect(count).toBe(1);
  });

  describe('operator routes', () => {
    it('answer 401 without the bearer token and 401 with a wrong one', async () => {
      await http().post('/admin/otp/audit/query').send({}).expect(401);
      await http().post('/admin/otp/audit/query').set('Authorization', `Bearer ${ADMIN}x`).send({}).expect(401);
    });

    it('list events by email (blind index), by IP and export JSON lines', async () => {
      const address = email();
      const c = await issue(address, 'req-admin-1');
      const auth = { Authorization: `Bearer ${ADMIN}` };
      const byEmail = await http().post('/admin/otp/audit/query').set(auth).send({ email: address }).expect(200);
      // Rows show the id at rest (its recipient tag zeroed, R30); a search takes the client's id.
      expect(byEmail.body.events.map((e: { challengeId: string }) => e.challengeId)).toContain(untaggedChallengeId(c.challengeId));
      const ip = byEmail.body.events[0].ip as string;
      expect(ip).toMatch(/127\.0\.0\.1$/);
      const byIp = await http().post('/admin/otp/audit/query').set(auth).send({ ip, limit: 5 }).expect(200);
      expect(byIp.body.events).toHaveLength(5);
      for (const e of byIp.body.events) expect(e.ip).toBe(ip);
      const exported = await http().post('/admin/otp/audit/export').set(auth).send({ challengeId: c.challengeId }).expect(200);
      expect(exported.headers['content-type']).toMatch(/application\/x-ndjson/);
      const lines = exported.text.trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.some((l) => l.event === 'challenge.issued' && l.challengeId === untaggedChallengeId(c.challengeId))).toBe(true);
      const verify = await http().get('/admin/otp/audit/verify').set(auth).expect(200);
      expect(verify.body.ok).toBe(true);
      const reads = await audit.list({ event: 'audit.queried' });
      expect(reads.length).toBeGreaterThanOrEqual(3);
    });

    it('reject bad filters with 400', async () => {
      await http().post('/admin/otp/audit/query').set('Authorization', `Bearer ${ADMIN}`).send({ email: 'not-an-address' }).expect(400);
      await http().post('/admin/otp/audit/query').set('Authorization', `Bearer ${ADMIN}`).send({ from: 'yesterday' }).expect(400);
    });
  });
});

describe('operator routes without OTP_ADMIN_TOKEN', () => {
  it('do not exist (404)', async () => {
    const t = await testApp().withDatabase().boot();
    const db = t.db;
    try {
      await request(t.app.getHttpServer()).post('/admin/otp/audit/query').set('Authorization', 'Bearer x').send({}).expect(404);
    } finally {
      await t.close();
    }
  });
});

describe('audit trail on the embedded PGlite database (npm start)', () => {
  it('appends and verifies the chain', async () => {
    const t = await testApp().boot();
    try {
      const c = await t.app.get(OtpService).issue({ email: `pglite.${Date.now()}@example.com`, ip: '192.0.2.1' });
      const audit = t.app.get(OtpAuditService);
      expect(await audit.list({ challengeId: c.challengeId })).toEqual([expect.objectContaining({ event: 'challenge.issued', ip: '192.0.2.1' })]);
      await expect(audit.verifyChain()).resolves.toMatchObject({ ok: true });
    } finally {
      await t.close();
    }
  });
});
