import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { OTP_THROTTLER_STORAGE, OtpEvent, OtpEventBus, OtpService } from '../src/otp';
import { OtpKeyring } from '../src/otp/crypto/otp-keyring';
import { OtpChallengeStore } from '../src/otp/persistence/otp-challenge.store';
import { OtpMemoryThrottlerStorage } from '../src/otp/rate-limit/memory-throttler-storage';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { HTTP_ADAPTERS, TestApp } from './support/test-app';
import { testApp } from './support/test-app.builder';
import { TestResources } from './support/test-resources';

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Every named throttler trips at its limit with 429 + Retry-After, on both adapters (counters in memory). */
describe.each(HTTP_ADAPTERS)('rate limits on %s', (adapter) => {
  let db: TestDatabase;
  const open = new TestResources();

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(() => open.close());
  afterAll(async () => db?.drop());

  /** Boots the app with these limits; every other limit is loosened so only the one under test can trip. */
  async function boot(env: NodeJS.ProcessEnv): Promise<TestApp> {
    const loose = {
      RATE_LIMIT_IP_SEND: '1000/60', RATE_LIMIT_IP_VERIFY: '1000/60', RATE_LIMIT_RECIPIENT: '1000/60',
      RATE_LIMIT_RECIPIENT_DAILY: '1000/86400', RATE_LIMIT_VERIFY_RECIPIENT_IP: '1000/600', RATE_LIMIT_GLOBAL_SEND: '1000/60',
      RATE_LIMIT_NETWORK_SEND: '1000/60',
    };
    return testApp().database(db).adapter(adapter).env({ ...loose, ...env }).closedBy(open).boot();
  }

  let n = 0;
  const email = () => `rl${++n}.${process.pid}.${Date.now()}@example.com`;
  const issue = (t: TestApp, body: Record<string, unknown>, ip?: string) => {
    const r = request(t.app.getHttpServer()).post('/auth/otp/challenges');
    return (ip ? r.set('X-Forwarded-For', ip) : r).send(body);
  };
  const verify = (t: TestApp, id: string, code: string, ip?: string) => {
    const r = request(t.app.getHttpServer()).post(`/auth/otp/challenges/${id}/verify`);
    return (ip ? r.set('X-Forwarded-For', ip) : r).send({ code });
  };
  const wrongFor = (code: string) => (code === '000000' ? '000001' : '000000');
  /** A challenge issued with a random v4 id, as every challenge was before ids carried a tag. */
  const issueLegacy = async (t: TestApp, address: string) => {
    jest.spyOn(t.app.get(OtpKeyring), 'newChallengeId').mockReturnValueOnce(randomUUID());
    const { challengeId } = await t.app.get(OtpService).issue({ email: address });
    expect(challengeId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/);
    return { challengeId, code: await t.codeFor(challengeId) };
  };
  /** The 13 hex digits of a UUIDv8's recipient tag, and the id with another tag put in their place. */
  const tagOf = (id: string) => id.slice(0, 8) + id.slice(9, 13) + id[15];
  const withTag = (id: string, tag: string) => `${tag.slice(0, 8)}-${tag.slice(8, 12)}-8${tag[12]}${id.slice(16)}`;

  function expectThrottled(res: request.Response, minRetry: number, maxRetry: number): void {
    expect(res.status).toBe(429);
    expect(res.body).toEqual({ error: 'otp_throttled', message: 'Too many requests. Try again later.' });
    const retry = Number(res.headers['retry-after']);
    expect(retry).toBeGreaterThanOrEqual(minRetry);
    expect(retry).toBeLessThanOrEqual(maxRetry);
    expect(res.headers['cache-control']).toBe('no-store');
  }

  it('R11: ip-send trips at its limit, issue and resend sharing it, with the X-RateLimit headers', async () => {
    const t = await boot({ RATE_LIMIT_IP_SEND: '3/60' });
    const events: OtpEvent[] = [];
    t.app.get(OtpEventBus).subscribe((e) => void events.push(e));
    const first = await issue(t, { email: email() }).expect(202);
    expect(first.headers['x-ratelimit-limit']).toBe('3');
    expect(first.headers['x-ratelimit-remaining']).toBe('2');
    expect(Number(first.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
    await db.dataSource.query(`UPDATE otp_challenges SET resend_available_at = now() WHERE id = $1`, [first.body.challengeId]);
    await request(t.app.getHttpServer()).post(`/auth/otp/challenges/${first.body.challengeId}/resend`).expect(202);
    const third = await issue(t, { email: email() }).expect(202);
    expect(third.headers['x-ratelimit-remaining']).toBe('0');
    const refused = await issue(t, { email: email() });
    expectThrottled(refused, 55, 60);
    expect([refused.headers['x-ratelimit-limit'], refused.headers['x-ratelimit-remaining']]).toEqual(['3', '0']);
    // R17: the throttle hit is a security event.
    expect(events.filter((e) => e.name === 'rate_limit.exceeded')).toEqual([
      expect.objectContaining({ outcome: 'failure', detail: { throttler: 'ip-send', scope: 'issue' } }),
    ]);
  });

  it('R11: ip-verify trips at its limit: the fourth verify is refused even with the right code', async () => {
    const t = await boot({ RATE_LIMIT_IP_VERIFY: '3/60' });
    const c = await issue(t, { email: email() }).expect(202);
    const code = await t.codeFor(c.body.challengeId);
    for (let i = 0; i < 3; i++) await verify(t, c.body.challengeId, wrongFor(code)).expect(401);
    expectThrottled(await verify(t, c.body.challengeId, code), 55, 60);
  });

  it('R11: a verify refused by ip-verify reads no challenge: the per-IP limit shields the database (a v4 id, minted before tags)', async () => {
    const t = await boot({ RATE_LIMIT_IP_VERIFY: '2/60' });
    const legacy = await issueLegacy(t, email());
    const lookups = jest.spyOn(t.app.get(OtpChallengeStore), 'findRateLimitSubject');
    for (let i = 0; i < 2; i++) await verify(t, legacy.challengeId, wrongFor(legacy.code)).expect(401);
    expect(lookups).toHaveBeenCalledTimes(2);
    for (let i = 0; i < 3; i++) expectThrottled(await verify(t, legacy.challengeId, legacy.code), 55, 60);
    expect(lookups).toHaveBeenCalledTimes(2);
  });

  it('R11: verify of a new (UUIDv8) challenge reads no challenge row for its limits, counts both throttlers in one storage call, ip-verify first', async () => {
    const t = await boot({ RATE_LIMIT_IP_VERIFY: '2/60' });
    const c = await issue(t, { email: email() }).expect(202);
    expect(c.body.challengeId).toMatch(UUID_V8);
    const code = await t.codeFor(c.body.challengeId);
    const lookups = jest.spyOn(t.app.get(OtpChallengeStore), 'findRateLimitSubject');
    const counted = jest.spyOn(t.app.get<OtpMemoryThrottlerStorage>(OTP_THROTTLER_STORAGE), 'incrementInOrder');
    for (let i = 0; i < 2; i++) await verify(t, c.body.challengeId, wrongFor(code)).expect(401);
    for (let i = 0; i < 2; i++) expectThrottled(await verify(t, c.body.challengeId, code), 55, 60);
    expect(lookups).not.toHaveBeenCalled();
    expect(counted).toHaveBeenCalledTimes(4);
    expect(counted.mock.calls.map(([hits]) => hits.map((h) => h.throttlerName))).toEqual(Array(4).fill(['ip-verify', 'verify-recipient-ip']));
  });

  it('R11: without a read, verify-recipient-ip still counts per recipient and IP across all of the recipient\'s new challenges', async () => {
    const t = await boot({ RATE_LIMIT_VERIFY_RECIPIENT_IP: '3/600', TRUST_PROXY: 'loopback' });
    const lookups = jest.spyOn(t.app.get(OtpChallengeStore), 'findRateLimitSubject');
    const address = email();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await issue(t, { email: address }).expect(202);
      ids.push(c.body.challengeId);
      await verify(t, c.body.challengeId, wrongFor(await t.codeFor(c.body.challengeId)), '198.51.100.20').expect(401);
    }
    expect(new Set(ids).size).toBe(3);
    const last = await issue(t, { email: address }).expect(202);
    const code = await t.codeFor(last.body.challengeId);
    expectThrottled(await verify(t, last.body.challengeId, code, '198.51.100.20'), 590, 600);
    // Another recipient from that IP has its own counter, and the recipient from another IP too.
    const other = await issue(t, { email: email() }).expect(202);
    await verify(t, other.body.challengeId, await t.codeFor(other.body.challengeId), '198.51.100.20').expect(200);
    await verify(t, last.body.challengeId, code, '198.51.100.21').expect(200);
    expect(lookups).not.toHaveBeenCalled();
  });

  it('R11: a challenge row of the same recipient with a v4 id (issued before the upgrade) shares the counter of its new ones', async () => {
    const t = await boot({ RATE_LIMIT_VERIFY_RECIPIENT_IP: '3/600', TRUST_PROXY: 'loopback' });
    const address = email();
    const legacy = await issueLegacy(t, address);
    for (let i = 0; i < 2; i++) await verify(t, legacy.challengeId, wrongFor(legacy.code), '198.51.100.30').expect(401);
    const fresh = await issue(t, { email: address }).expect(202);
    expect(fresh.body.challengeId).toMatch(UUID_V8);
    const code = await t.codeFor(fresh.body.challengeId);
    await verify(t, fresh.body.challengeId, wrongFor(code), '198.51.100.30').expect(401);
    expectThrottled(await verify(t, fresh.body.challengeId, code, '198.51.100.30'), 590, 600);
    // And the other way round: the new challenges' guesses block the old id too.
    expectThrottled(await verify(t, legacy.challengeId, legacy.code, '198.51.100.30'), 590, 600);
    await verify(t, fresh.body.challengeId, code, '198.51.100.31').expect(200);
  });

  it('R11: a forged v8 id carrying a real recipient\'s tag is 401, counts in that recipient\'s counter for its IP only, and forged ids of other tags cannot unblock it', async () => {
    const t = await boot({ RATE_LIMIT_VERIFY_RECIPIENT_IP: '3/600', TRUST_PROXY: 'loopback' });
    const victim = await issue(t, { email: email() }).expect(202);
    const code = await t.codeFor(victim.body.challengeId);
    const tag = tagOf(victim.body.challengeId);
    const attacker = await issue(t, { email: email() }).expect(202);
    // The attacker's own challenge with the victim's tag put in: no such challenge.
    const forged = withTag(attacker.body.challengeId, tag);
    expect(forged).toMatch(UUID_V8);
    for (let i = 0; i < 3; i++) await verify(t, forged, code, '203.0.113.40').expect(401);
    // Its guesses counted where guesses on the victim's challenge count, for that IP, not elsewhere.
    expectThrottled(await verify(t, victim.body.challengeId, code, '203.0.113.40'), 590, 600);
    // Forged ids of other tags (fresh tags, the attacker's own) are 401 in counters of their own ...
    for (const other of [withTag(victim.body.challengeId, 'abcdef0123456'), withTag(victim.body.challengeId, tagOf(attacker.body.challengeId))]) {
      await verify(t, other, code, '203.0.113.40').expect(401);
    }
    // ... and the victim's counter stays as it was: still refused from that IP, untouched from another.
    expectThrottled(await verify(t, victim.body.challengeId, code, '203.0.113.40'), 590, 600);
    await verify(t, victim.body.challengeId, code, '203.0.113.41').expect(200);
  });

  it('R23/R14: an id whose tag was altered does not verify with the right code (the one answer of an unknown challenge), and the real challenge still does', async () => {
    const t = await boot({});
    const c = await issue(t, { email: email() }).expect(202);
    const code = await t.codeFor(c.body.challengeId);
    const tag = tagOf(c.body.challengeId);
    const flipped = (tag.slice(0, 12) + (parseInt(tag[12], 16) ^ 1).toString(16));
    for (const altered of [withTag(c.body.challengeId, flipped), withTag(c.body.challengeId, tagOf((await issue(t, { email: email() }).expect(202)).body.challengeId))]) {
      expect(altered).not.toBe(c.body.challengeId);
      const res = await verify(t, altered, code);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'otp_invalid', message: expect.any(String) });
    }
    await verify(t, c.body.challengeId, code).expect(200);
  });

  it('R11: the recipient limit is per canonical address and purpose: a verify-email code can be asked right after a sign-in code', async () => {
    const t = await boot({ RATE_LIMIT_RECIPIENT: '1/60' });
    const address = email();
    const login = await issue(t, { email: address }).expect(202);
    expectThrottled(await issue(t, { email: address.toUpperCase() }), 55, 60);
    await issue(t, { email: address, purpose: 'verify-email' }).expect(202);
    // Resend shares the recipient's counter: refused by the throttler even once the database cooldown is over.
    await db.dataSource.query(`UPDATE otp_challenges SET resend_available_at = now() WHERE id = $1`, [login.body.challengeId]);
    expectThrottled(await request(t.app.getHttpServer()).post(`/auth/otp/challenges/${login.body.challengeId}/resend`), 55, 60);
    // Another address is untouched.
    await issue(t, { email: email() }).expect(202);
  });

  it('R11: the daily cap per recipient counts across purposes', async () => {
    const t = await boot({ RATE_LIMIT_RECIPIENT_DAILY: '3/86400' });
    const address = email();
    await issue(t, { email: address }).expect(202);
    await issue(t, { email: address, purpose: 'verify-email' }).expect(202);
    await issue(t, { email: address }).expect(202);
    expectThrottled(await issue(t, { email: address }), 86_000, 86_400);
  });

  it('verify-recipient-ip counts per recipient and IP across the recipient\'s challenges; another IP is not blocked', async () => {
    const t = await boot({ RATE_LIMIT_VERIFY_RECIPIENT_IP: '3/600', TRUST_PROXY: 'loopback' });
    const address = email();
    const first = await issue(t, { email: address }).expect(202);
    const firstCode = await t.codeFor(first.body.challengeId);
    for (let i = 0; i < 3; i++) await verify(t, first.body.challengeId, wrongFor(firstCode), '198.51.100.7').expect(401);
    const second = await issue(t, { email: address }).expect(202);
    const code = await t.codeFor(second.body.challengeId);
    expectThrottled(await verify(t, second.body.challengeId, code, '198.51.100.7'), 590, 600);
    await verify(t, second.body.challengeId, code, '198.51.100.8').expect(200);
  });

  it('R11: the global send budget trips at its limit, and requests refused for one noisy recipient do not spend it', async () => {
    const t = await boot({ RATE_LIMIT_GLOBAL_SEND: '3/60', RATE_LIMIT_RECIPIENT: '1/60' });
    const noisy = email();
    await issue(t, { email: noisy }).expect(202);
    for (let i = 0; i < 5; i++) expect((await issue(t, { email: noisy })).status).toBe(429);
    await issue(t, { email: email() }).expect(202);
    await issue(t, { email: email() }).expect(202);
    expectThrottled(await issue(t, { email: email() }), 55, 60);
  });

  it('R11: 62 client IPs of one /24 cannot spend the global budget: network-send (default 30/60 s) refuses the rest, and another network still gets codes', async () => {
    // RATE_LIMIT_NETWORK_SEND empty: the module default applies.
    const t = await boot({ RATE_LIMIT_NETWORK_SEND: '', RATE_LIMIT_GLOBAL_SEND: '60/60', TRUST_PROXY: 'loopback' });
    const events: OtpEvent[] = [];
    t.app.get(OtpEventBus).subscribe((e) => void events.push(e));
    const statuses: number[] = [];
    let refused: request.Response | undefined;
    for (let i = 1; i <= 62; i++) {
      const res = await issue(t, { email: email() }, `203.0.113.${i}`);
      statuses.push(res.status);
      if (res.status === 429) refused ??= res;
    }
    expect(statuses).toEqual([...Array(30).fill(202), ...Array(32).fill(429)]);
    expectThrottled(refused!, 55, 60);
    expect(events.filter((e) => e.name === 'rate_limit.exceeded').map((e) => e.detail?.throttler)).toEqual(Array(32).fill('network-send'));
    // The 32 refused sends did not spend the global budget: another network gets the 30 codes left of it.
    for (let i = 1; i <= 30; i++) await issue(t, { email: email() }, `198.51.100.${i}`).expect(202);
    expectThrottled(await issue(t, { email: email() }, '192.0.2.1'), 55, 60);
  });

  it('network-send groups IPv4 by /24 and IPv6 by /48, and counts resends', async () => {
    const t = await boot({ RATE_LIMIT_NETWORK_SEND: '3/60', TRUST_PROXY: 'loopback' });
    const first = await issue(t, { email: email() }, '2001:db8:1:1::1').expect(202);
    await issue(t, { email: email() }, '2001:db8:1:ff::2').expect(202);
    await db.dataSource.query(`UPDATE otp_challenges SET resend_available_at = now() WHERE id = $1`, [first.body.challengeId]);
    await request(t.app.getHttpServer()).post(`/auth/otp/challenges/${first.body.challengeId}/resend`).set('X-Forwarded-For', '2001:db8:1:abcd::3').expect(202);
    expectThrottled(await issue(t, { email: email() }, '2001:db8:1:abcd::4'), 55, 60);
    await issue(t, { email: email() }, '2001:db8:2::1').expect(202);
    for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.254']) await issue(t, { email: email() }, ip).expect(202);
    expectThrottled(await issue(t, { email: email() }, '192.0.2.77'), 55, 60);
    await issue(t, { email: email() }, '192.0.3.1').expect(202);
  });

  it('R18: the global budget reaching 80 % raises global_send_near once per window, not once per send', async () => {
    const t = await boot({ RATE_LIMIT_GLOBAL_SEND: '10/60' });
    const alerts: OtpEvent[] = [];
    t.app.get(OtpEventBus).subscribe((e) => void (e.name === 'alert.raised' && e.detail?.rule === 'global_send_near' && alerts.push(e)));
    for (let i = 0; i < 7; i++) await issue(t, { email: email() }).expect(202);
    expect(alerts).toEqual([]);
    await issue(t, { email: email() }).expect(202);
    expect(alerts).toEqual([expect.objectContaining({ detail: { rule: 'global_send_near', count: 8, threshold: 8 } })]);
    for (let i = 0; i < 2; i++) await issue(t, { email: email() }).expect(202);
    expectThrottled(await issue(t, { email: email() }), 55, 60);
    expect(alerts).toHaveLength(1);
  });

  it('R11/R14: a known address (with earlier challenges) and an unknown one are limited identically', async () => {
    const t = await boot({ RATE_LIMIT_RECIPIENT: '2/60', TRUST_PROXY: 'loopback' });
    const known = email();
    const otp = t.app.get(OtpService);
    // The earlier challenge is of another purpose: issuing it spends the address's daily budget, not the per-purpose one under test.
    const old = await otp.issue({ email: known, purpose: 'verify-email' });
    await otp.verify({ challengeId: old.challengeId, code: await t.codeFor(old.challengeId) });
    const unknown = email();
    const run = async (address: string, ip: string) => {
      const out: request.Response[] = [];
      for (let i = 0; i < 4; i++) out.push(await issue(t, { email: address }, ip));
      return out;
    };
    const a = await run(known, '203.0.113.1');
    const b = await run(unknown, '203.0.113.2');
    expect(a.map((r) => r.status)).toEqual([202, 202, 429, 429]);
    expect(b.map((r) => r.status)).toEqual(a.map((r) => r.status));
    const shape = (r: request.Response) => ({
      body: r.status === 202 ? Object.keys(r.body).sort() : r.body,
      headers: Object.keys(r.headers).filter((h) => h !== 'date').sort(),
      limits: [r.headers['x-ratelimit-limit'], r.headers['x-ratelimit-remaining'], r.headers['content-length']],
    });
    expect(b.map(shape)).toEqual(a.map(shape));
    // Both get UUIDv8 ids of the same form (the tag is computed from the address alone, known or not).
    expect([a[0].body.challengeId, b[0].body.challengeId]).toEqual([expect.stringMatching(UUID_V8), expect.stringMatching(UUID_V8)]);
    expect(Math.abs(Number(a[2].headers['retry-after']) - Number(b[2].headers['retry-after']))).toBeLessThanOrEqual(1);
  });

  it('malformed bodies get 400 (not a crash of the tracker) and spend no recipient budget', async () => {
    const t = await boot({ RATE_LIMIT_RECIPIENT: '1/60' });
    const address = email();
    const bodies = ['{"email":', '[]', 'null', `{"email":"${address}","extra":1}`, `{"email":"${address}","purpose":"nope"}`, `{"email":"${address}","purpose":"transfer"}`];
    for (const body of bodies) {
      const res = await request(t.app.getHttpServer()).post('/auth/otp/challenges').set('content-type', 'application/json').send(body);
      expect(res.status).toBe(400);
    }
    const badId = await request(t.app.getHttpServer()).post('/auth/otp/challenges/not-a-uuid/verify').send({ code: '123456' });
    expect(badId.status).toBe(400);
    await issue(t, { email: address }).expect(202);
  });

  it('R11: a full in-memory store (RATE_LIMIT_MEMORY_MAX_KEYS) fails closed with 503 and rate_limit.store_full, writes nothing, evicts nobody', async () => {
    const t = await boot({ RATE_LIMIT_MEMORY_MAX_KEYS: '1000', RATE_LIMIT_RECIPIENT: '1/60' });
    const events: OtpEvent[] = [];
    t.app.get(OtpEventBus).subscribe((e) => void events.push(e));
    const victim = email();
    await issue(t, { email: victim }).expect(202);
    const storage = t.app.get<OtpMemoryThrottlerStorage>(OTP_THROTTLER_STORAGE);
    expect(storage).toBeInstanceOf(OtpMemoryThrottlerStorage);
    // Another client's spray: fill every free counter.
    for (let i = 0; storage.size < storage.maxKeys; i++) await storage.increment(`spray-${i}`, 86_400_000, 20, 86_400_000, 'recipient-daily');
    const [before] = await db.dataSource.query('SELECT count(*)::int AS n FROM otp_challenges');
    const refused = await issue(t, { email: email() });
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ error: 'otp_unavailable', message: expect.any(String) });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(events.filter((e) => e.name === 'rate_limit.store_full')).toEqual([
      expect.objectContaining({ outcome: 'failure', detail: { scope: 'issue', keys: 1000, maxKeys: 1000 } }),
    ]);
    const [after] = await db.dataSource.query('SELECT count(*)::int AS n FROM otp_challenges');
    expect(after.n).toBe(before.n);
    // The victim's counters were not evicted to make room: still refused by its recipient limit.
    expectThrottled(await issue(t, { email: victim }), 55, 60);
  });

  it('R12: a spoofed X-Forwarded-For does not escape the per-IP limit when no proxy is trusted (the default)', async () => {
    const t = await boot({ RATE_LIMIT_IP_SEND: '2/60' });
    await issue(t, { email: email() }, '192.0.2.1').expect(202);
    await issue(t, { email: email() }, '192.0.2.2').expect(202);
    expectThrottled(await issue(t, { email: email() }, '192.0.2.3'), 55, 60);
  });

  it('R12: with TRUST_PROXY=1 (a hop count) the address the proxy appended is counted on both adapters, not what the client put before it', async () => {
    // Fastify 5.12 refuses a number (hop-count-only trust fails closed there, every client reads as the proxy):
    // the adapter passes it as Express's rule, the hop before the socket and no further.
    const t = await boot({ RATE_LIMIT_IP_SEND: '2/60', TRUST_PROXY: '1' });
    await issue(t, { email: email() }, '198.51.100.1, 192.0.2.20').expect(202);
    await issue(t, { email: email() }, '198.51.100.2, 192.0.2.20').expect(202);
    expectThrottled(await issue(t, { email: email() }, '198.51.100.3, 192.0.2.20'), 55, 60);
    await issue(t, { email: email() }, '198.51.100.3, 192.0.2.21').expect(202);
  });

  it('R12: with TRUST_PROXY=loopback the forwarded client IP is counted, IPv6 clients by /64', async () => {
    const t = await boot({ RATE_LIMIT_IP_SEND: '2/60', TRUST_PROXY: 'loopback' });
    await issue(t, { email: email() }, '192.0.2.10').expect(202);
    await issue(t, { email: email() }, '192.0.2.10').expect(202);
    expectThrottled(await issue(t, { email: email() }, '192.0.2.10'), 55, 60);
    await issue(t, { email: email() }, '192.0.2.11').expect(202);
    await issue(t, { email: email() }, '2001:db8:0:1::1').expect(202);
    await issue(t, { email: email() }, '2001:db8:0:1::ffff').expect(202);
    expectThrottled(await issue(t, { email: email() }, '2001:db8:0:1:abcd::2'), 55, 60);
    await issue(t, { email: email() }, '2001:db8:0:2::1').expect(202);
  });
});
