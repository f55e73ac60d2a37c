import { OtpService } from '../../src/otp';
import { UUID_PATTERN } from '../../src/otp/crypto/uuid';
import type { TestDatabase } from '../support/test-database';
import { allLimitsRaised } from './support/hostile-env';
import { median, RawClient, RawResponse } from './support/raw-http';
import { BootedTestApp, testApp } from '../support/test-app.builder';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const VOLATILE_HEADERS = new Set(['date', 'x-request-id', 'request-id', 'x-correlation-id']);
/** Per-IP counters move with every request whatever the recipient: compared by presence and form only. */
const COUNTER_HEADERS = new Set(['x-ratelimit-remaining', 'x-ratelimit-reset', 'ratelimit-remaining', 'ratelimit-reset']);

/** What may differ between two answers: ids and timestamps, reduced to their shape. */
function shape(value: unknown): unknown {
  if (typeof value === 'string') return UUID_PATTERN.test(value) ? '<uuid>' : ISO.test(value) ? '<iso-time>' : value;
  if (Array.isArray(value)) return value.map(shape);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]));
  return value;
}

function stableHeaders(r: RawResponse): Record<string, unknown> {
  return Object.fromEntries(Object.entries(r.headers).filter(([k]) => !VOLATILE_HEADERS.has(k))
    .map(([k, v]) => [k, COUNTER_HEADERS.has(k) ? String(v).replace(/[0-9]+/g, '<n>') : v]).sort());
}

function expectIdentical(known: RawResponse[], unknown: RawResponse[]): void {
  const all = [...known, ...unknown];
  for (const r of all) {
    expect(r.status).toBe(all[0].status);
    expect(stableHeaders(r)).toEqual(stableHeaders(all[0]));
    expect(shape(r.json)).toEqual(shape(all[0].json));
  }
}

/**
 * R14: over 200 interleaved requests, addresses with history (prior challenges,
 * cooldowns long passed) and never-seen addresses get identical answers, and
 * median latencies within 5 ms; verify answers the same (status, headers, body)
 * for a live challenge with a wrong code and for an unknown id.
 */
describe('hostile input: enumeration of recipients', () => {
  let db: TestDatabase;
  let t: BootedTestApp;
  let client: RawClient;
  const run = Date.now();

  beforeAll(async () => {
    // Every limit raised: the known addresses' earlier challenges below are counted by the send limits too.
    t = await testApp().withDatabase().env(allLimitsRaised()).boot();
    db = t.db;
    await t.app.listen(0, '127.0.0.1');
    client = new RawClient(t.app.getHttpServer().address().port);
  });
  afterAll(async () => {
    client?.close();
    await t?.close();
  });

  it('R14: issuing for 100 known and 100 unknown addresses, interleaved, gives identical answers and medians within 5 ms', async () => {
    const otp = t.app.get(OtpService);
    const known = Array.from({ length: 100 }, (_, i) => `known.${run}.${i}@example.com`);
    for (const email of known) await otp.issue({ email });
    // Their history is old: any cooldown has passed.
    await db.dataSource.query(`UPDATE otp_challenges SET created_at = created_at - interval '1 hour', resend_available_at = now() - interval '1 hour'`);
    for (let i = 0; i < 20; i++) await client.postJson('/auth/otp/challenges', { email: `warmup.${run}.${i}@example.com` });

    const answers = { known: [] as RawResponse[], unknown: [] as RawResponse[] };
    for (let i = 0; i < 100; i++) {
      answers.known.push(await client.postJson('/auth/otp/challenges', { email: known[i] }));
      answers.unknown.push(await client.postJson('/auth/otp/challenges', { email: `unknown.${run}.${i}@example.com` }));
    }
    expect(answers.known[0].status).toBe(202);
    expectIdentical(answers.known, answers.unknown);
    const lifetimes = [...answers.known, ...answers.unknown].map((r) => {
      const b = r.json as { expiresAt: string; resendAvailableAt: string };
      return Date.parse(b.expiresAt) - Date.parse(b.resendAvailableAt);
    });
    expect(new Set(lifetimes).size).toBe(1);
    const gap = Math.abs(median(answers.known.map((r) => r.ms)) - median(answers.unknown.map((r) => r.ms)));
    expect(gap).toBeLessThan(5);
  });

  it('R14: wrong codes on 100 live challenges and on 100 unknown ids, interleaved, get identical answers', async () => {
    const live = [];
    for (let i = 0; i < 100; i++) {
      const r = await client.postJson('/auth/otp/challenges', { email: `verify.${run}.${i}@example.com` });
      live.push({ id: (r.json as { challengeId: string }).challengeId, code: await t.codeFor((r.json as { challengeId: string }).challengeId) });
    }
    const answers = { known: [] as RawResponse[], unknown: [] as RawResponse[] };
    for (let i = 0; i < 100; i++) {
      const wrong = live[i].code === '000000' ? '000001' : '000000';
      answers.known.push(await client.postJson(`/auth/otp/challenges/${live[i].id}/verify`, { code: wrong }));
      answers.unknown.push(await client.postJson(`/auth/otp/challenges/${crypto.randomUUID()}/verify`, { code: wrong }));
    }
    expect(answers.known[0].status).toBe(401);
    expectIdentical(answers.known, answers.unknown);
    // No latency bound here: a wrong code on a live challenge commits a write (attempt and failure
    // counted), an unknown id writes nothing, so they differ by about one WAL flush. That reveals
    // only whether a random 122-bit challenge id exists, never which recipient it belongs to.
  });
});
