import { createHash, randomBytes } from 'node:crypto';
import { OtpKeyring, parseKeyList } from '../src/otp/crypto/otp-keyring';
import { OtpInvalidError, OtpPurposeUnknownError, OtpContextInvalidError, OtpService, OtpThrottledError } from '../src/otp';
import type { TestDatabase } from './support/test-database';
import { dumpAllTables, holdsCode } from './support/table-dump';
import { failureDelayPassed } from './support/failure-delay';
import { RELAXED_RATE_LIMITS, testKeyLine } from './support/test-app';
import { BootedTestApp, testApp } from './support/test-app.builder';

describe('OtpService on PostgreSQL', () => {
  let db: TestDatabase;
  let t: BootedTestApp;
  let otp: OtpService;
  const keys = testKeyLine('a');

  beforeAll(async () => {
    // The service counts the send limits too; this suite is about the engine, not them.
    t = await testApp().withDatabase().env({ OTP_KEYS: keys, ...RELAXED_RATE_LIMITS }).boot();
    db = t.db;
    otp = t.app.get(OtpService);
  });
  afterAll(async () => t?.close());

  let n = 0;
  const email = () => `user${++n}.${Date.now()}@example.com`;
  const rejected = (p: Promise<unknown>) => expect(p).rejects.toBeInstanceOf(OtpInvalidError);

  const delayPassed = (address: string) => failureDelayPassed(db, otp.recipientIndex(address));

  async function issued(input: Parameters<OtpService['issue']>[0]) {
    const c = await otp.issue(input);
    return { ...c, email: input.email, code: await t.codeFor(c.challengeId) };
  }

  it('R24: the right code verifies once; the same code again is otp.invalid', async () => {
    const address = email();
    const c = await issued({ email: address });
    const proof = await otp.verify({ challengeId: c.challengeId, code: c.code });
    // A right code re-checks the failure budget under its lock but charges nothing: an address that
    // never failed has a row with no failures and no window.
    const budget = await db.dataSource.query('SELECT failures, window_started_at FROM otp_failure_budgets WHERE recipient_index = $1', [otp.recipientIndex(address)]);
    expect(budget).toEqual([{ failures: 0, window_started_at: -Infinity }]);
    expect(proof).toMatchObject({ challengeId: c.challengeId, purpose: 'login', contextHash: null });
    expect(proof.verifiedAt).toBeInstanceOf(Date);
    await rejected(otp.verify({ challengeId: c.challengeId, code: c.code }));
  });

  it('R24: 50 concurrent verifies with the right code give exactly one success', async () => {
    const c = await issued({ email: email() });
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => otp.verify({ challengeId: c.challengeId, code: c.code })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(OtpInvalidError);
  });

  it('R9: 50 concurrent wrong guesses record at most 5 attempts, and the right code fails afterwards', async () => {
    const c = await issued({ email: email() });
    const wrong = c.code === '000000' ? '000001' : '000000';
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => otp.verify({ challengeId: c.challengeId, code: wrong })),
    );
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    const [row] = await db.dataSource.query('SELECT attempts FROM otp_challenges WHERE id = $1', [c.challengeId]);
    expect(row.attempts).toBe(5);
    await delayPassed(c.email); // the fifth failure started the address's escalating delay (R10)
    await rejected(otp.verify({ challengeId: c.challengeId, code: c.code }));
  });

  it('R9: the right code fails after five wrong ones, sequentially', async () => {
    const c = await issued({ email: email() });
    const wrong = c.code === '999999' ? '999998' : '999999';
    for (let i = 0; i < 5; i++) await rejected(otp.verify({ challengeId: c.challengeId, code: wrong }));
    await delayPassed(c.email); // the fifth failure started the address's escalating delay (R10)
    await rejected(otp.verify({ challengeId: c.challengeId, code: c.code }));
  });

  it('R6: expiry is judged by the database clock (expiry moved 1 s into the past)', async () => {
    const c = await issued({ email: email() });
    const [clock] = await db.dataSource.query(`SELECT extract(epoch FROM expires_at - created_at) AS ttl FROM otp_challenges WHERE id = $1`, [c.challengeId]);
    expect(Number(clock.ttl)).toBe(600);
    await db.dataSource.query(`UPDATE otp_challenges SET expires_at = now() - interval '1 second' WHERE id = $1`, [c.challengeId]);
    await rejected(otp.verify({ challengeId: c.challengeId, code: c.code }));
  });

  it('R6: a challenge still verifies one second before its database expiry', async () => {
    const c = await issued({ email: email() });
    await db.dataSource.query(`UPDATE otp_challenges SET expires_at = now() + interval '1 second' WHERE id = $1`, [c.challengeId]);
    await expect(otp.verify({ challengeId: c.challengeId, code: c.code })).resolves.toBeDefined();
  });

  it('R7: a new challenge for the same address and purpose supersedes the old one, case variants included', async () => {
    const address = email();
    const first = await issued({ email: address });
    const second = await issued({ email: `  ${address.toUpperCase()} ` });
    await rejected(otp.verify({ challengeId: first.challengeId, code: first.code }));
    await expect(otp.verify({ challengeId: second.challengeId, code: second.code })).resolves.toBeDefined();
  });

  it('R7: concurrent issues for one address and purpose leave exactly one live challenge', async () => {
    const address = email();
    const all = await Promise.all(Array.from({ length: 20 }, () => otp.issue({ email: address })));
    expect(new Set(all.map((c) => c.challengeId)).size).toBe(20);
    const [live] = await db.dataSource.query(
      `SELECT count(*)::int AS n FROM otp_challenges WHERE id = ANY($1::uuid[]) AND superseded_at IS NULL`,
      [all.map((c) => c.challengeId)],
    );
    expect(live.n).toBe(1);
  });

  it('R7: a challenge for another purpose does not supersede the login one', async () => {
    const address = email();
    const login = await issued({ email: address });
    await issued({ email: address, purpose: 'transfer', context: { amount: 1, to: 'x' } });
    await expect(otp.verify({ challengeId: login.challengeId, code: login.code })).resolves.toBeDefined();
  });

  it('R23: a code fails on another challenge, for another user or another purpose', async () => {
    const address = email();
    const a = await issued({ email: address });
    const b = await issued({ email: email() });
    const c = await issued({ email: address, purpose: 'verify-email' });
    await rejected(otp.verify({ challengeId: b.challengeId, code: a.code }));
    await rejected(otp.verify({ challengeId: c.challengeId, code: a.code }));
    await expect(otp.verify({ challengeId: a.challengeId, code: a.code })).resolves.toBeDefined();
  });

  it('R25: a transaction code fails for a changed amount or payee, and passes for the same context in any key order', async () => {
    const address = email();
    const c = await issued({ email: address, purpose: 'transfer', context: { amount: 100, to: 'alice' } });
    await rejected(otp.verify({ challengeId: c.challengeId, code: c.code, context: { amount: 101, to: 'alice' } }));
    await rejected(otp.verify({ challengeId: c.challengeId, code: c.code, context: { amount: 100, to: 'mallory' } }));
    await rejected(otp.verify({ challengeId: c.challengeId, code: c.code }));
    const proof = await otp.verify({ challengeId: c.challengeId, code: c.code, context: { to: 'alice', amount: 100 } });
    expect(proof.contextHash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses an undeclared purpose (prototype names included) and a transfer without context, writing nothing', async () => {
    const [before] = await db.dataSource.query('SELECT count(*)::int AS n FROM otp_challenges');
    for (const purpose of ['anything', 'constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      await expect(otp.issue({ email: email(), purpose })).rejects.toBeInstanceOf(OtpPurposeUnknownError);
    }
    await expect(otp.issue({ email: email(), purpose: 'transfer' })).rejects.toBeInstanceOf(OtpContextInvalidError);
    const [after] = await db.dataSource.query('SELECT count(*)::int AS n FROM otp_challenges');
    expect(after.n).toBe(before.n);
  });

  it.each([
    ['R36: a link to print in the mail', { amount: 1, to: 'https://evil.test/pay' }],
    ['a field the purpose does not declare', { amount: 1, to: 'bob', note: 'call us' }],
    ['a value of the wrong type', { amount: '1', to: 'bob' }],
    ['a missing declared field', { amount: 1 }],
  ])('refuses a transfer context with %s, writing nothing', async (_name, context) => {
    const [before] = await db.dataSource.query('SELECT count(*)::int AS n FROM otp_challenges');
    await expect(otp.issue({ email: email(), purpose: 'transfer', context })).rejects.toBeInstanceOf(OtpContextInvalidError);
    const [after] = await db.dataSource.query('SELECT count(*)::int AS n FROM otp_challenges');
    expect(after.n).toBe(before.n);
  });

  it('R7: resend mails a fresh code, keeps the earlier ones valid (three at most) and never resets the attempt counter', async () => {
    await db.dataSource.query(`SELECT 1`);
    const address = email();
    const c = await issued({ email: address });
    const codes = [c.code];
    for (let i = 0; i < 3; i++) {
      await db.dataSource.query(`UPDATE otp_challenges SET resend_available_at = now() WHERE id = $1`, [c.challengeId]);
      const before = t.mailbox.list().length;
      const again = await otp.resend(c.challengeId);
      expect(again.challengeId).toBe(c.challengeId);
      expect(again.expiresAt.getTime()).toBe(c.expiresAt.getTime());
      const mail = await pollForMail(before);
      codes.push(mail);
    }
    const wrong = codes.includes('123456') ? '654321' : '123456';
    await rejected(otp.verify({ challengeId: c.challengeId, code: wrong }));
    const [row] = await db.dataSource.query('SELECT attempts, cardinality(code_digests) AS live FROM otp_challenges WHERE id = $1', [c.challengeId]);
    expect(row).toEqual({ attempts: 1, live: 3 });
    // The very first code was pushed out by the third resend, unless codes repeated by chance.
    if (!codes.slice(1).includes(codes[0])) await rejected(otp.verify({ challengeId: c.challengeId, code: codes[0] }));
    await expect(otp.verify({ challengeId: c.challengeId, code: codes[1] })).resolves.toBeDefined();

    async function pollForMail(before: number): Promise<string> {
      const { pollFor } = await import('./support/test-app');
      return pollFor(() => (t.mailbox.list().length > before ? t.mailbox.list()[0].code : undefined));
    }
  });

  it('resend of a challenge sealed under an encryption key this instance lacks is otp.invalid, not a crash', async () => {
    const c = await issued({ email: email() });
    await db.dataSource.query(`UPDATE otp_challenges SET resend_available_at = now(), delivery_ciphertext = 'gone.AAAA.AAAA.AAAA' WHERE id = $1`, [c.challengeId]);
    await rejected(otp.resend(c.challengeId));
  });

  it('R11: resend inside the cooldown is throttled with the wait in seconds; after max resends it stops', async () => {
    const c = await issued({ email: email() });
    const err = await otp.resend(c.challengeId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OtpThrottledError);
    expect((err as OtpThrottledError).retryAfterSeconds).toBeGreaterThan(50);
    await db.dataSource.query(`UPDATE otp_challenges SET resends = 3, resend_available_at = now() WHERE id = $1`, [c.challengeId]);
    await rejected(otp.resend(c.challengeId));
  });

  it('R10: the failure budget of an address holds across new challenges and resends, then lifts when its window passes', async () => {
    const address = email();
    let failures = 0;
    // 20 failures spread over challenges of two purposes.
    while (failures < 20) {
      const purpose = failures % 10 < 5 ? 'login' : 'verify-email';
      const c = await issued({ email: address, purpose });
      const wrong = c.code === '111111' ? '222222' : '111111';
      for (let i = 0; i < 5 && failures < 20; i++, failures++) {
        await delayPassed(address);
        await rejected(otp.verify({ challengeId: c.challengeId, code: wrong }));
      }
    }
    const fresh = await issued({ email: address });
    await delayPassed(address);
    await rejected(otp.verify({ challengeId: fresh.challengeId, code: fresh.code }));
    const [row] = await db.dataSource.query(`SELECT attempts FROM otp_challenges WHERE id = $1`, [fresh.challengeId]);
    expect(row.attempts).toBe(0); // refused before it reached the challenge
    // Another address is not affected.
    const other = await issued({ email: email() });
    await expect(otp.verify({ challengeId: other.challengeId, code: other.code })).resolves.toBeDefined();
    // The window passes (moved on the database, no sleeping).
    await db.dataSource.query(`UPDATE otp_failure_budgets SET window_started_at = now() - interval '25 hours'`);
    await expect(otp.verify({ challengeId: fresh.challengeId, code: fresh.code })).resolves.toBeDefined();
  });

  it('R10: 20 challenges × 5 wrong codes stop at 20 recorded failures, and the right code of a fresh challenge then fails', async () => {
    const address = email();
    let wrongSubmissions = 0;
    for (let round = 0; round < 20; round++) {
      const c = await issued({ email: address });
      const wrong = c.code === '333333' ? '444444' : '333333';
      for (let i = 0; i < 5; i++, wrongSubmissions++) {
        await delayPassed(address);
        await rejected(otp.verify({ challengeId: c.challengeId, code: wrong }));
      }
    }
    expect(wrongSubmissions).toBe(100);
    const [budget] = await db.dataSource.query(`SELECT failures FROM otp_failure_budgets WHERE recipient_index = $1`, [otp.recipientIndex(address)]);
    expect(budget.failures).toBe(20);
    const last = await issued({ email: address });
    // Spent, not waiting: the uniform 401 at once (no Retry-After that would suggest minutes), and after any wait.
    await rejected(otp.verify({ challengeId: last.challengeId, code: last.code }));
    await delayPassed(address);
    await rejected(otp.verify({ challengeId: last.challengeId, code: last.code }));
  });

  it('R10: resends within one challenge share its counter and the address budget (never reset)', async () => {
    const address = email();
    const c = await issued({ email: address });
    const wrong = c.code === '555555' ? '666666' : '555555';
    await rejected(otp.verify({ challengeId: c.challengeId, code: wrong }));
    await rejected(otp.verify({ challengeId: c.challengeId, code: wrong }));
    await db.dataSource.query(`UPDATE otp_challenges SET resend_available_at = now() WHERE id = $1`, [c.challengeId]);
    await otp.resend(c.challengeId);
    for (let i = 0; i < 3; i++) await rejected(otp.verify({ challengeId: c.challengeId, code: wrong }));
    // Five wrong codes in all, across the resend: the challenge is dead even for its codes.
    await delayPassed(address);
    await rejected(otp.verify({ challengeId: c.challengeId, code: c.code }));
    const [budget] = await db.dataSource.query(`SELECT failures FROM otp_failure_budgets WHERE recipient_index = $1`, [otp.recipientIndex(address)]);
    expect(budget.failures).toBe(5);
  });

  describe('R10: escalating delays between verifications of one address', () => {
    const waitOf = async (address: string): Promise<number | null> => {
      const [row] = await db.dataSource.query(
        `SELECT round(extract(epoch FROM next_attempt_at - now()))::int AS wait FROM otp_failure_budgets WHERE recipient_index = $1`,
        [otp.recipientIndex(address)],
      );
      return row ? row.wait : null;
    };
    const throttled = async (p: Promise<unknown>): Promise<number> => {
      const err = await p.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(OtpThrottledError);
      return (err as OtpThrottledError).retryAfterSeconds!;
    };

    async function failTimes(address: string, times: number): Promise<void> {
      for (let done = 0; done < times; ) {
        const c = await issued({ email: address });
        const wrong = c.code === '777777' ? '888888' : '777777';
        for (let i = 0; i < 5 && done < times; i++, done++) {
          await delayPassed(address);
          await rejected(otp.verify({ challengeId: c.challengeId, code: wrong }));
        }
      }
    }

    /** How many doubling waits (the first `first` seconds) a burst that lasted `ms` may have outlived. */
    const waitsOutlived = (ms: number, first: number): number => {
      let n = 0;
      for (let total = first * 1000, step = first * 1000; total < ms; step *= 2, total += step) n++;
      return n;
    };

    it('R10: no wait for the first four failures; from the fifth the wait is 2 s and doubles with each further failure', async () => {
      const address = email();
      await failTimes(address, 4);
      expect(await waitOf(address)).toBeNull();
      const waits: (number | null)[] = [];
      for (let f = 5; f <= 9; f++) {
        await failTimes(address, 1);
        waits.push(await waitOf(address));
      }
      expect(waits).toEqual([2, 4, 8, 16, 32]);
    });

    it('R10: while the wait runs even the right code is refused without being compared (429 with the wait), and it works once the wait has passed', async () => {
      const address = email();
      await failTimes(address, 5);
      const c = await issued({ email: address });
      const retryAfter = await throttled(otp.verify({ challengeId: c.challengeId, code: c.code }));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(2);
      const [row] = await db.dataSource.query(`SELECT attempts, consumed_at FROM otp_challenges WHERE id = $1`, [c.challengeId]);
      expect(row).toEqual({ attempts: 0, consumed_at: null });
      const [budget] = await db.dataSource.query(`SELECT failures FROM otp_failure_budgets WHERE recipient_index = $1`, [otp.recipientIndex(address)]);
      expect(budget.failures).toBe(5); // a refused attempt is not charged either
      await delayPassed(address);
      await expect(otp.verify({ challengeId: c.challengeId, code: c.code })).resolves.toBeDefined();
    });

    it('R10: concurrent guesses on an address under delay: exactly one is compared per wait, the right code included', async () => {
      for (const withRightCode of [false, true]) {
        const address = email();
        await failTimes(address, 5);
        const c = await issued({ email: address });
        await delayPassed(address);
        const wrong = c.code === '121212' ? '343434' : '121212';
        const guesses = Array.from({ length: 20 }, (_, i) => (withRightCode && i === 10 ? c.code : wrong));
        const started = Date.now();
        const results = await Promise.allSettled(guesses.map((code) => otp.verify({ challengeId: c.challengeId, code })));
        // One comparison per wait: one, plus one per wait the burst outlived on a slow machine (4 s, then 8 s...).
        const allowed = 1 + waitsOutlived(Date.now() - started, 4);
        const [row] = await db.dataSource.query(`SELECT attempts FROM otp_challenges WHERE id = $1`, [c.challengeId]);
        expect(row.attempts).toBeGreaterThanOrEqual(1);
        expect(row.attempts).toBeLessThanOrEqual(allowed);
        const succeeded = results.filter((r) => r.status === 'fulfilled').length;
        const compared = results.filter((r) => r.status === 'fulfilled' || r.reason instanceof OtpInvalidError).length;
        expect(compared).toBe(row.attempts);
        expect(succeeded).toBeLessThanOrEqual(withRightCode ? 1 : 0);
        for (const r of results) if (r.status === 'rejected' && !(r.reason instanceof OtpInvalidError)) expect(r.reason).toBeInstanceOf(OtpThrottledError);
      }
    });

    it('R10: a burst of concurrent guesses, the right code among them, is compared at most until the wait starts (5 - f), however many arrive', async () => {
      for (const before of [0, 4]) {
        const address = email();
        if (before > 0) await failTimes(address, before);
        const c = await issued({ email: address });
        await delayPassed(address);
        const wrong = (i: number) => String((Number(c.code) + 1 + i) % 1_000_000).padStart(6, '0');
        const guesses = Array.from({ length: 20 }, (_, i) => (i === 10 ? c.code : wrong(i)));
        const started = Date.now();
        const results = await Promise.allSettled(guesses.map((code) => otp.verify({ challengeId: c.challengeId, code })));
        // Every comparison that could succeed is counted on the challenge (a success too): at most the
        // failures left before the wait, plus one per wait a slow machine let the burst outlive (2 s, 4 s...).
        // (Counting 401s instead would also count the answers of a challenge those failures killed.)
        const allowed = Math.min(5, 5 - before + waitsOutlived(Date.now() - started, 2));
        const [row] = await db.dataSource.query(`SELECT attempts FROM otp_challenges WHERE id = $1`, [c.challengeId]);
        expect(row.attempts).toBeLessThanOrEqual(allowed);
        expect(results.filter((r) => r.status === 'fulfilled').length).toBeLessThanOrEqual(1);
        for (const r of results) if (r.status === 'rejected' && !(r.reason instanceof OtpInvalidError)) expect(r.reason).toBeInstanceOf(OtpThrottledError);
      }
    });

    it('R10: an expired or consumed challenge of a delayed address answers the same wait, so the wait reveals nothing about it', async () => {
      const address = email();
      await failTimes(address, 5);
      const c = await issued({ email: address });
      await db.dataSource.query(`UPDATE otp_challenges SET expires_at = now() - interval '1 second' WHERE id = $1`, [c.challengeId]);
      await throttled(otp.verify({ challengeId: c.challengeId, code: c.code }));
      await rejected(otp.verify({ challengeId: '00000000-0000-4000-8000-000000000000', code: '123456' }));
    });
  });

  it('R4/R30: after issue and verify no table holds the code, the address, or SHA-256 of the code', async () => {
    const address = `Leak.Canary.${Date.now()}@example.com`;
    const c = await issued({ email: address, purpose: 'transfer', context: { amount: 5, to: 'bob' } });
    const d = await issued({ email: address });
    await otp.verify({ challengeId: d.challengeId, code: d.code });
    const dump = await dumpAllTables(db);
    for (const code of [c.code, d.code]) {
      expect(holdsCode(dump, code)).toBe(false);
      for (const enc of ['hex', 'base64', 'base64url'] as const) {
        expect(dump).not.toContain(createHash('sha256').update(code).digest(enc));
      }
    }
    expect(dump.toLowerCase()).not.toContain(address.toLowerCase());
    expect(dump.toLowerCase()).not.toContain('leak.canary');
  });

  it('R4: a search of all 10^6 codes with the exact construction finds the code with the key and nothing without it', async () => {
    const c = await issued({ email: email() });
    const [row] = await db.dataSource.query('SELECT code_digests FROM otp_challenges WHERE id = $1', [c.challengeId]);
    const stored = String(row.code_digests[0]);
    expect(stored).toMatch(/^a:[A-Za-z0-9_-]{43}$/);
    const search = (keyring: OtpKeyring, from = 0, to = 1_000_000) => {
      const found: string[] = [];
      for (let i = from; i < to; i++) {
        const guess = String(i).padStart(6, '0');
        if (keyring.codeDigest(c.challengeId, 'login', guess) === stored) found.push(guess);
      }
      return found;
    };
    // Positive control: the same search finds the code when it has the key (a window around it, for speed).
    const at = Number(c.code);
    expect(search(new OtpKeyring(parseKeyList(keys)), Math.max(0, at - 10_000), Math.min(1_000_000, at + 10_000))).toEqual([c.code]);
    // Without the key, all 10^6 codes match nothing; nor does a guessed all-zero key on the code's neighbourhood.
    expect(search(new OtpKeyring([{ id: 'a', secret: randomBytes(32) }]))).toEqual([]);
    expect(search(new OtpKeyring([{ id: 'a', secret: Buffer.alloc(32) }]), Math.max(0, at - 50_000), Math.min(1_000_000, at + 50_000))).toEqual([]);
    const digest = stored.split(':')[1];
    let unkeyed = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const guess = String(i).padStart(6, '0');
      if (createHash('sha256').update(guess).digest('base64url') === digest) unkeyed++;
      if (createHash('sha256').update(c.challengeId + guess).digest('base64url') === digest) unkeyed++;
    }
    expect(unkeyed).toBe(0);
  });
});
