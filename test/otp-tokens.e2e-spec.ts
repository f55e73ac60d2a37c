import { createHash } from 'node:crypto';
import request from 'supertest';
import { OtpEvent, OtpEventBus, OtpRequiredError, OtpService, OtpTokenService } from '../src/otp';
import type { TestDatabase } from './support/test-database';
import { OtpSql } from '../src/otp/persistence/otp-sql';
import { REDEEM_TOKENS } from '../src/otp/tokens/otp-token.sql';
import { countStatements } from './support/statement-count';
import { RELAXED_RATE_LIMITS } from './support/test-app';
import { BootedTestApp, testApp } from './support/test-app.builder';

describe('Proof tokens on PostgreSQL', () => {
  let db: TestDatabase;
  let t: BootedTestApp;
  let otp: OtpService;
  let tokens: OtpTokenService;
  const events: OtpEvent[] = [];

  beforeAll(async () => {
    t = await testApp().withDatabase().env(RELAXED_RATE_LIMITS).boot();
    db = t.db;
    otp = t.app.get(OtpService);
    tokens = t.app.get(OtpTokenService);
    t.app.get(OtpEventBus).subscribe((e) => void events.push(e));
  });
  afterAll(async () => t?.close());

  let n = 0;
  const email = () => `token${++n}.${Date.now()}@example.com`;
  const refused = (p: Promise<unknown>) => expect(p).rejects.toBeInstanceOf(OtpRequiredError);

  /** A token minted through the real HTTP verify route. */
  async function tokenVia(address: string, purpose = 'login', context?: Record<string, string | number>) {
    const http = request(t.app.getHttpServer());
    // A context-bound purpose is host-only: the host issues it (OtpService.issue), the client verifies it over HTTP.
    const challengeId = context
      ? (await otp.issue({ email: address, purpose, context })).challengeId
      : (await http.post('/auth/otp/challenges').send({ email: address, purpose }).expect(202)).body.challengeId;
    const code = await t.codeFor(challengeId);
    const verified = await http.post(`/auth/otp/challenges/${challengeId}/verify`).send({ code, context }).expect(200);
    return verified.body as { token: string; tokenType: string; expiresAt: string; purpose: string; amr: string[]; challengeId: string };
  }

  it('R15: verify answers 200 with the token contract; the proof says one email factor (amr otp_email)', async () => {
    const before = Date.now();
    const body = await tokenVia(email());
    expect(body).toEqual({
      token: expect.stringMatching(/^otp_[A-Za-z0-9_-]{43}$/),
      tokenType: 'Bearer',
      expiresAt: expect.any(String),
      purpose: 'login',
      amr: ['otp_email'],
      challengeId: expect.any(String),
    });
    const ttl = new Date(body.expiresAt).getTime() - before;
    expect(ttl).toBeGreaterThan(280_000);
    expect(ttl).toBeLessThanOrEqual(305_000);
    const proof = await tokens.redeem(body.token, { purpose: 'login', contextHash: null });
    expect(proof.amr).toEqual(['otp_email']);
  });

  it('R24: 20 concurrent redemptions of one token give exactly one success', async () => {
    const { token } = await tokenVia(email());
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => tokens.redeem(token, { purpose: 'login', contextHash: null })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(OtpRequiredError);
    expect(events.some((e) => e.name === 'token.refused' && e.detail?.reason === 'reused')).toBe(true);
  });

  it('R24: redemptions of many tokens at once share statements; each is redeemed once, the same token twice in one burst once, an unknown one refused', async () => {
    const minted = await Promise.all(Array.from({ length: 12 }, () => tokenVia(email())));
    const sql = countStatements(t.app.get(OtpSql));
    const asked = [...minted.map((m) => m.token), minted[0].token, minted[5].token, `otp_${'B'.repeat(43)}`];
    let results: PromiseSettledResult<unknown>[];
    try {
      results = await Promise.allSettled(asked.map((token) => tokens.redeem(token, { purpose: 'login', contextHash: null })));
    } finally {
      sql.restore();
    }
    const ok = results.map((r) => r.status === 'fulfilled');
    expect(ok.slice(0, 12).filter(Boolean).length + ok.slice(12, 14).filter(Boolean).length).toBe(12);
    expect(ok[0] !== ok[12] && ok[5] !== ok[13]).toBe(true);
    expect(ok[14]).toBe(false);
    for (const [i, r] of results.entries()) {
      if (r.status === 'fulfilled') expect((r.value as { challengeId: string }).challengeId).toBe(minted[i < 12 ? i : i === 12 ? 0 : 5].challengeId);
    }
    const statements = sql.count('token_redeem');
    expect(statements).toBeGreaterThan(0);
    expect(statements).toBeLessThan(asked.length / 2);
  });

  it('R24: the batched redemption reaches each token by its key, never by a scan of the table', async () => {
    await db.dataSource.query(`INSERT INTO otp_tokens (token_hash, challenge_id, purpose, recipient_index, amr, verified_at, expires_at)
      SELECT 'plan-' || g, gen_random_uuid(), 'login', 'r' || g, ARRAY['otp_email'], now(), now() + interval '5 minutes' FROM generate_series(1, 5000) g`);
    const plan = (await db.dataSource.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${REDEEM_TOKENS}`, [['plan-7', 'plan-4000', 'nothing']]))
      .map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
    expect(plan).not.toMatch(/Seq Scan on otp_tokens/);
    expect(plan).toMatch(/Index Cond: \(token_hash = ANY/);
  });

  it('R6: a token past its expiry is refused (expiry moved in the database)', async () => {
    const { token, challengeId } = await tokenVia(email());
    await db.dataSource.query(
      `UPDATE otp_tokens SET issued_at = now() - interval '10 minutes', expires_at = now() - interval '1 second' WHERE challenge_id = $1`,
      [challengeId],
    );
    await refused(tokens.redeem(token, { purpose: 'login', contextHash: null }));
    expect(events.find((e) => e.name === 'token.refused' && e.challengeId === challengeId)?.detail?.reason).toBe('expired');
  });

  it('a token for another purpose is refused, and spent by the attempt', async () => {
    const { token } = await tokenVia(email(), 'verify-email');
    await refused(tokens.redeem(token, { purpose: 'login', contextHash: null }));
    await refused(tokens.redeem(token, { purpose: 'verify-email', contextHash: null }));
  });

  it('R25: a token is bound to its context hash and to its recipient', async () => {
    const address = email();
    const context = { amount: 10, to: 'alice' };
    const { contextHash } = await import('../src/otp');
    const a = await tokenVia(address, 'transfer', context);
    await refused(tokens.redeem(a.token, { purpose: 'transfer', contextHash: contextHash({ amount: 11, to: 'alice' }) }));
    const b = await tokenVia(address, 'transfer', context);
    await refused(tokens.redeem(b.token, { purpose: 'transfer', contextHash: null }));
    const c = await tokenVia(address, 'transfer', context);
    await refused(tokens.redeem(c.token, { purpose: 'transfer', contextHash: contextHash(context), recipientEmail: email() }));
    const d = await tokenVia(address, 'transfer', context);
    const proof = await tokens.redeem(d.token, {
      purpose: 'transfer', contextHash: contextHash({ to: 'alice', amount: 10 }), recipientEmail: address.toUpperCase(),
    });
    expect(proof.recipientIndex).toBe(otp.recipientIndex(address));
  });

  it('missing, malformed and unknown tokens are refused alike', async () => {
    await refused(tokens.redeem(undefined, { purpose: 'login', contextHash: null }));
    await refused(tokens.redeem('not-a-token', { purpose: 'login', contextHash: null }));
    await refused(tokens.redeem(`otp_${'A'.repeat(43)}`, { purpose: 'login', contextHash: null }));
  });

  it('stores only the SHA-256 of a token, and no event carries the token', async () => {
    const { token, challengeId } = await tokenVia(email());
    const rows = await db.dataSource.query(`SELECT row_to_json(t)::text AS j FROM otp_tokens t WHERE challenge_id = $1`, [challengeId]);
    expect(rows).toHaveLength(1);
    expect(rows[0].j).not.toContain(token);
    expect(rows[0].j).not.toContain(token.slice(4));
    expect(rows[0].j).toContain(createHash('sha256').update(token).digest('base64url'));
    await tokens.redeem(token, { purpose: 'login', contextHash: null });
    expect(JSON.stringify(events)).not.toContain(token.slice(4));
    expect(events.filter((e) => e.challengeId === challengeId).map((e) => e.name)).toEqual(
      expect.arrayContaining(['token.issued', 'token.redeemed']),
    );
  });

  it('a consumed challenge cannot mint a second token', async () => {
    const c = await otp.issue({ email: email() });
    const proof = await otp.verify({ challengeId: c.challengeId, code: await t.codeFor(c.challengeId) });
    await tokens.issue(proof);
    await expect(tokens.issue(proof)).rejects.toBeDefined();
  });

  it('R24: 20 concurrent right codes through verifyAndIssue give one token, written with the consumption', async () => {
    const c = await otp.issue({ email: email() });
    const code = await t.codeFor(c.challengeId);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => tokens.verifyAndIssue({ challengeId: c.challengeId, code })));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const [row] = await db.dataSource.query(
      `SELECT t.token_hash, t.verified_at = c.consumed_at AS same_instant, t.expires_at - t.verified_at AS ttl, t.amr
       FROM otp_tokens t JOIN otp_challenges c ON c.id = t.challenge_id WHERE t.challenge_id = $1`, [c.challengeId]);
    const issued = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<OtpTokenService['verifyAndIssue']>>>).value;
    expect(row).toMatchObject({ same_instant: true, amr: ['otp_email'] });
    expect(row.token_hash).toBe(createHash('sha256').update(issued.token).digest('base64url'));
    expect(row.ttl).toMatchObject({ minutes: 5 });
    const proof = await tokens.redeem(issued.token, { purpose: 'login', contextHash: null });
    expect(proof.challengeId).toBe(c.challengeId);
    expect(proof.redeemedAt.getTime()).toBeLessThan(issued.expiresAt.getTime());
  });

  it('a wrong code through verifyAndIssue writes no token and leaves the challenge verifiable', async () => {
    const c = await otp.issue({ email: email() });
    const code = await t.codeFor(c.challengeId);
    const wrong = code === '000000' ? '000001' : '000000';
    await expect(tokens.verifyAndIssue({ challengeId: c.challengeId, code: wrong })).rejects.toBeDefined();
    const [none] = await db.dataSource.query(`SELECT count(*)::int AS n FROM otp_tokens WHERE challenge_id = $1`, [c.challengeId]);
    expect(none.n).toBe(0);
    await expect(tokens.verifyAndIssue({ challengeId: c.challengeId, code })).resolves.toMatchObject({ challengeId: c.challengeId });
  });
});
