import { OtpInvalidError, OtpService, OtpThrottledError } from '../../src/otp';
import type { TestDatabase } from '../support/test-database';
import { allLimitsRaised } from './support/hostile-env';
import { RawClient } from './support/raw-http';
import { SeededRandom } from './support/seeded-random';
import { BootedTestApp, testApp } from '../support/test-app.builder';

/**
 * An attacker sprays 10,000 guesses at one recipient: new challenges, resends
 * and a different client IP (X-Forwarded-For) on every request. Nothing
 * succeeds, and the database records fewer than 100 failures in all: after
 * five failures the address's escalating delay answers most guesses with a
 * wait (429) without comparing them, and the failure budget caps the rest.
 */
describe('hostile input: brute force on one recipient', () => {
  let db: TestDatabase;
  let t: BootedTestApp;
  let client: RawClient;
  const victim = `victim.${Date.now()}@example.com`;

  beforeAll(async () => {
    // Rate limits are tested with their own work: here only the failure budget stands in the way.
    t = await testApp().withDatabase().env({ TRUST_PROXY: 'loopback', ...allLimitsRaised() }).boot();
    db = t.db;
    await t.app.listen(0, '127.0.0.1');
    client = new RawClient(t.app.getHttpServer().address().port);
  });
  afterAll(async () => {
    client?.close();
    await t?.close();
  });

  it('R9/R10: 10,000 guesses across new challenges, resends and many IPs give no success and under 100 recorded failures', async () => {
    const rnd = new SeededRandom(0xb007e);
    const GUESSES = 10_000;
    const PER_CHALLENGE = 40;
    const ip = () => `203.0.${rnd.int(256)}.${rnd.int(256)}`;
    const statuses: Record<number, number> = {};
    const count = (s: number) => (statuses[s] = (statuses[s] ?? 0) + 1);
    const otp = t.app.get(OtpService);
    let sent = 0;
    let successes = 0;
    const challenges: string[] = [];

    const attacker = async (): Promise<void> => {
      while (sent < GUESSES) {
        const issued = await client.postJson('/auth/otp/challenges', { email: victim }, { 'x-forwarded-for': ip() });
        count(issued.status);
        // Refused (throttled) or not, the attacker keeps guessing on the newest challenge it has.
        if (issued.status === 202) challenges.push((issued.json as { challengeId: string }).challengeId);
        const id = challenges[challenges.length - 1];
        if (!id) continue;
        for (let g = 0; g < PER_CHALLENGE && sent < GUESSES; g++) {
          if (g % 10 === 9) count((await client.send({ method: 'POST', path: `/auth/otp/challenges/${id}/resend`, headers: { 'x-forwarded-for': ip() } })).status);
          if (sent >= GUESSES) break;
          sent++;
          // One guess in four goes over HTTP from a fresh IP; the rest call the service the
          // controller calls (same statement, same budget), which keeps the test in seconds.
          if (sent % 4 === 0) {
            const r = await client.postJson(`/auth/otp/challenges/${id}/verify`, { code: rnd.digits() }, { 'x-forwarded-for': ip() });
            count(r.status);
            if (r.status === 200) successes++;
          } else {
            const ok = await otp.verify({ challengeId: id, code: rnd.digits() }).then(() => true, (err: unknown) => {
              if (err instanceof OtpThrottledError) count(429);
              else if (!(err instanceof OtpInvalidError)) throw err;
              return false;
            });
            if (ok) successes++;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: 24 }, attacker));

    expect(sent).toBe(GUESSES);
    expect(successes).toBe(0);
    const [recorded] = await db.dataSource.query(
      `SELECT coalesce(sum(attempts), 0)::int AS attempts, count(*)::int AS challenges FROM otp_challenges WHERE recipient_index = $1`,
      [otp.recipientIndex(victim)],
    );
    const [budget] = await db.dataSource.query(`SELECT failures FROM otp_failure_budgets WHERE recipient_index = $1`, [otp.recipientIndex(victim)]);
    // Every attempt counted on a challenge was a failure (none succeeded).
    expect(recorded.attempts).toBeLessThan(100);
    expect(recorded.attempts).toBeLessThanOrEqual(20);
    expect(budget.failures).toBeLessThanOrEqual(20);
    expect(recorded.challenges).toBeGreaterThan(50); // the spray really went across many challenges
    expect(statuses[200] ?? 0).toBe(0);
    // R10: the escalating delay answered most guesses with a wait before the budget was even spent.
    expect(statuses[429] ?? 0).toBeGreaterThan(GUESSES / 2);

    // R13: the lock is per address; someone else still signs in.
    const other = await client.postJson('/auth/otp/challenges', { email: `bystander.${Date.now()}@example.com` });
    const otherId = (other.json as { challengeId: string }).challengeId;
    const ok = await client.postJson(`/auth/otp/challenges/${otherId}/verify`, { code: await t.codeFor(otherId) });
    expect(ok.status).toBe(200);
  }, 120_000);
});
