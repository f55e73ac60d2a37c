import request from 'supertest';
import { OtpEvent, OtpEventBus, OtpService } from '../src/otp';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { HTTP_ADAPTERS, pollFor, RELAXED_RATE_LIMITS, TestApp } from './support/test-app';
import { testApp } from './support/test-app.builder';
import { TestResources } from './support/test-resources';

/** POST /accounts/password: guesses of `currentPassword` are throttled, audited, and scrypt work is capped. */
describe.each(HTTP_ADAPTERS)('password change on %s', (adapter) => {
  let db: TestDatabase;
  const open = new TestResources();

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(() => open.close());
  afterAll(async () => db?.drop());

  async function boot(env: NodeJS.ProcessEnv = {}): Promise<TestApp> {
    return testApp()
      .database(db)
      .adapter(adapter)
      .env({ TRUST_PROXY: 'loopback', ...RELAXED_RATE_LIMITS, RATE_LIMIT_PASSWORD_ACCOUNT: '1000/900', RATE_LIMIT_PASSWORD_IP: '1000/900', ...env })
      .closedBy(open)
      .boot();
  }

  let n = 0;
  const email = () => `pw${++n}.${process.pid}.${Date.now()}@example.com`;
  const FIRST = 'first password 1234';

  /** A session of a new account whose password is `FIRST`. */
  async function accountWithPassword(t: TestApp, address = email()): Promise<string> {
    const http = request(t.app.getHttpServer());
    const issued = await http.post('/auth/otp/challenges').send({ email: address }).expect(202);
    const code = await t.codeFor(issued.body.challengeId);
    const { body } = await http.post(`/auth/otp/challenges/${issued.body.challengeId}/verify`).send({ code }).expect(200);
    const session = (await http.post('/accounts/sessions').set('X-OTP-Token', body.token).send({ email: address }).expect(201)).body.sessionToken;
    // From an IP of its own, so that setting it does not count against the IPs a test watches.
    await http.post('/accounts/password').set('Authorization', `Bearer ${session}`).set('X-Forwarded-For', `192.0.2.${n}`)
      .send({ password: FIRST }).expect(204);
    return session;
  }

  const change = (t: TestApp, session: string, currentPassword: string, ip = '198.51.100.1') =>
    request(t.app.getHttpServer()).post('/accounts/password').set('Authorization', `Bearer ${session}`).set('X-Forwarded-For', ip)
      .send({ password: 'the next password 1234', currentPassword });

  it('R17: a wrong currentPassword is refused and audited as password.change_failed, with the account as subject', async () => {
    const t = await boot();
    const events: OtpEvent[] = [];
    t.app.get(OtpEventBus).subscribe((e) => void events.push(e));
    const address = email();
    const session = await accountWithPassword(t, address);
    const res = await change(t, session, 'not the password', '198.51.100.23').expect(401);
    expect(res.body.error).toBe('invalid_credentials');
    const index = t.app.get(OtpService).recipientIndex(address);
    expect(events.filter((e) => e.name === 'password.change_failed')).toEqual([
      expect.objectContaining({ outcome: 'failure', recipientIndex: index, detail: { reason: 'wrong_password' } }),
    ]);
    const row = await pollFor(async () => (await db.dataSource.query(
      `SELECT event, owasp, outcome, ip FROM otp_audit_log WHERE event = 'password.change_failed' AND recipient_index = $1`, [index]))[0]);
    expect(row).toEqual({ event: 'password.change_failed', owasp: 'authn_password_change_fail', outcome: 'failure', ip: '198.51.100.23' });
  });

  it('throttles currentPassword guesses per account: the attempt after the limit is 429 even with the right password, from any session or IP', async () => {
    const t = await boot({ RATE_LIMIT_PASSWORD_ACCOUNT: '3/900' });
    const address = email();
    const session = await accountWithPassword(t, address);
    const before = (await db.dataSource.query(`SELECT password_hash FROM accounts WHERE email = $1`, [address]))[0].password_hash;
    // Setting the first password was attempt 1.
    await change(t, session, 'guess 1', '198.51.100.2').expect(401);
    await change(t, session, 'guess 2', '198.51.100.3').expect(401);
    const refused = await change(t, session, FIRST, '198.51.100.4');
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: 'otp_throttled', message: 'Too many requests. Try again later.' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(800);
    expect((await db.dataSource.query(`SELECT password_hash FROM accounts WHERE email = $1`, [address]))[0].password_hash).toBe(before);
    // Another account is not blocked.
    await change(t, await accountWithPassword(t), FIRST, '198.51.100.4').expect(204);
  });

  it('throttles password changes per client IP across accounts; another IP is not blocked', async () => {
    const t = await boot({ RATE_LIMIT_PASSWORD_IP: '2/900' });
    const sessions = [await accountWithPassword(t), await accountWithPassword(t), await accountWithPassword(t)];
    await change(t, sessions[0], 'guess', '203.0.113.9').expect(401);
    await change(t, sessions[1], 'guess', '203.0.113.9').expect(401);
    expect((await change(t, sessions[2], FIRST, '203.0.113.9')).status).toBe(429);
    await change(t, sessions[2], FIRST, '203.0.113.10').expect(204);
  });

  it('caps concurrent scrypt work: requests beyond the running and queued ones get 503 with Retry-After, none a 500', async () => {
    const t = await boot({ PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '1' });
    const session = await accountWithPassword(t);
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => change(t, session, `guess ${i}`)));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses.filter((s) => s !== 401 && s !== 503)).toEqual([]);
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(2);
    const busy = answers.filter((r) => r.status === 503);
    expect(busy.length).toBeGreaterThanOrEqual(1);
    expect(busy[0].body).toEqual({ error: 'otp_unavailable', message: 'The service is temporarily unavailable. Try again shortly.' });
    expect(Number(busy[0].headers['retry-after'])).toBeGreaterThan(0);
    // Once the work is done the route answers again.
    await change(t, session, FIRST).expect(204);
  });
});
