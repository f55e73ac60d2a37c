import type { OtpSql } from '../persistence/otp-sql';
import { OtpKnownDeviceStore, SIGN_IN_BATCH_MAX, SIGN_IN_STATEMENTS_IN_FLIGHT, SignInRecord } from './otp-known-device.store';

/** A fake pool: each statement waits until the test releases it, and answers each sign-in by its address. */
function fakeSql() {
  const statements: { values: unknown[]; release: () => void; fail: (err: Error) => void }[] = [];
  const sql = {
    rows: (_label: string, _text: string, values: unknown[]) => new Promise((resolve, reject) => {
      const addresses = values[0] as string[];
      statements.push({
        values,
        release: () => resolve(addresses.map((a, i) => ({ ord: String(i + 1), known: a.startsWith('known'), remembered: a.startsWith('first') ? 0 : 1, queued: a.startsWith('new') }))),
        fail: reject,
      });
    }),
  } as unknown as OtpSql;
  return { sql, statements };
}

const record = (recipientIndex: string, over: Partial<SignInRecord> = {}): SignInRecord => ({
  recipientIndex, deviceDigest: `d-${recipientIndex}`, notice: { id: `n-${recipientIndex}`, payloadCiphertext: 'p', deadlineSeconds: 86_400 },
  rememberSeconds: 1000, intervalSeconds: 3600, ...over,
});

const settle = () => new Promise((r) => setImmediate(r));

describe('OtpKnownDeviceStore: sign-ins by group commit', () => {
  it('a sign-in finding a free slot goes at once, alone', async () => {
    const { sql, statements } = fakeSql();
    const store = new OtpKnownDeviceStore(sql);
    const out = store.recordSignIn(record('known-a'));
    expect(statements).toHaveLength(1);
    expect(statements[0].values[0]).toEqual(['known-a']);
    statements[0].release();
    await expect(out).resolves.toEqual({ known: true, remembered: 1, queued: false });
  });

  it('sign-ins arriving while every slot is busy go together in the next statement, each answered by its own row', async () => {
    const { sql, statements } = fakeSql();
    const store = new OtpKnownDeviceStore(sql);
    const names = ['known-1', 'new-2', 'first-3', 'known-4', 'new-5', 'first-6'];
    const outs = names.map((n) => store.recordSignIn(record(n)));
    expect(statements).toHaveLength(SIGN_IN_STATEMENTS_IN_FLIGHT);
    statements[0].release();
    await settle();
    expect(statements).toHaveLength(SIGN_IN_STATEMENTS_IN_FLIGHT + 1);
    expect(statements[SIGN_IN_STATEMENTS_IN_FLIGHT].values[0]).toEqual(names.slice(SIGN_IN_STATEMENTS_IN_FLIGHT));
    for (const s of statements) s.release();
    expect(await Promise.all(outs)).toEqual(names.map((n) => ({ known: n.startsWith('known'), remembered: n.startsWith('first') ? 0 : 1, queued: n.startsWith('new') })));
  });

  it('a batch holds an address once, only sign-ins of the same settings, and at most SIGN_IN_BATCH_MAX', async () => {
    const { sql, statements } = fakeSql();
    const store = new OtpKnownDeviceStore(sql);
    for (let i = 0; i < SIGN_IN_STATEMENTS_IN_FLIGHT; i++) void store.recordSignIn(record(`busy-${i}`));
    const outs = [
      store.recordSignIn(record('a')), store.recordSignIn(record('b')), store.recordSignIn(record('a')),
      store.recordSignIn(record('c', { intervalSeconds: 60 })), store.recordSignIn(record('d')),
      ...Array.from({ length: SIGN_IN_BATCH_MAX }, (_, i) => store.recordSignIn(record(`many-${i}`))),
    ];
    statements[0].release();
    await settle();
    const next = statements[SIGN_IN_STATEMENTS_IN_FLIGHT].values[0] as string[];
    expect(next.slice(0, 3)).toEqual(['a', 'b', 'd']);
    expect(next).toHaveLength(SIGN_IN_BATCH_MAX);
    expect(statements[SIGN_IN_STATEMENTS_IN_FLIGHT].values[3]).toBe(3600);
    // The second sign-in of `a` and the one of other settings wait for later batches, in arrival order.
    for (let k = 0; k < 5; k++) {
      for (const s of statements) s.release();
      await settle();
    }
    const later = statements.slice(SIGN_IN_STATEMENTS_IN_FLIGHT + 1).map((s) => s.values[0] as string[]);
    expect(later.flat()).toEqual(expect.arrayContaining(['a', 'c', 'many-61', 'many-62', 'many-63']));
    expect(later.find((b) => b.includes('c'))).toEqual(['c']);
    await Promise.all(outs);
  });

  it('a failed statement fails the sign-ins of its batch only', async () => {
    const { sql, statements } = fakeSql();
    const store = new OtpKnownDeviceStore(sql);
    const first = store.recordSignIn(record('known-x'));
    const second = store.recordSignIn(record('known-y'));
    statements[0].fail(new Error('connection lost'));
    await expect(first).rejects.toThrow('connection lost');
    // The second went in a slot of its own, or waits for the one the failure freed.
    await settle();
    expect(statements).toHaveLength(2);
    expect(statements[1].values[0]).toEqual(['known-y']);
    statements[1].release();
    await expect(second).resolves.toMatchObject({ known: true });
  });
});
