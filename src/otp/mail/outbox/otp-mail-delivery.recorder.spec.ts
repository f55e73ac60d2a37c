import { OtpMailDeliveryRecorder } from './otp-mail-delivery.recorder';
import { OutboxDelivery } from './otp-mail-outbox.store';

const d = (id: string): OutboxDelivery => ({ id, messageId: `<${id}@example.test>`, response: '250 ok' });

describe('OtpMailDeliveryRecorder (group commit of deliveries)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function recorder(opts: { moreComing?: () => boolean; delayMs?: number; fail?: number; retryForMs?: number; stopping?: () => boolean } = {}) {
    const writes: string[][] = [];
    const sleeps: number[] = [];
    let failures = opts.fail ?? 0;
    let release: (() => void) | undefined;
    const r = new OtpMailDeliveryRecorder({
      retryForMs: opts.retryForMs,
      stopping: opts.stopping,
      sleep: async (ms) => {
        sleeps.push(ms);
        jest.advanceTimersByTime(ms); // the fake clock moves with the pause
      },
      write: async (batch) => {
        writes.push(batch.map((x) => x.id));
        if (failures-- > 0) throw new Error('Connection terminated unexpectedly');
        await new Promise<void>((res) => (release = res));
      },
      onError: () => undefined,
      moreComing: opts.moreComing ?? (() => false),
      delayMs: opts.delayMs ?? 0,
    });
    return { r, writes, sleeps, finishWrite: () => release?.() };
  }

  it('writes a delivery at once when no other message is on its way', async () => {
    const { r, writes, finishWrite } = recorder();
    const done = r.record(d('a'));
    expect(writes).toEqual([['a']]);
    finishWrite();
    await expect(done).resolves.toBe(true);
  });

  it('writes what finished during a write with the next statement, all together', async () => {
    const { r, writes, finishWrite } = recorder();
    const first = r.record(d('a'));
    const rest = [r.record(d('b')), r.record(d('c')), r.record(d('d'))];
    expect(writes).toEqual([['a']]);
    finishWrite();
    await first;
    await jest.advanceTimersByTimeAsync(0); // the settled write's callbacks
    expect(writes).toEqual([['a'], ['b', 'c', 'd']]);
    finishWrite();
    await expect(Promise.all(rest)).resolves.toEqual([true, true, true]);
  });

  it('waits at most delayMs for messages still on their way, then writes what it has', async () => {
    const { r, writes, finishWrite } = recorder({ moreComing: () => true, delayMs: 10 });
    const a = r.record(d('a'));
    await jest.advanceTimersByTimeAsync(6);
    const b = r.record(d('b'));
    expect(writes).toEqual([]);
    await jest.advanceTimersByTimeAsync(4); // 10 ms after the oldest, not after the newest
    expect(writes).toEqual([['a', 'b']]);
    finishWrite();
    await expect(Promise.all([a, b])).resolves.toEqual([true, true]);
  });

  it('retries a failing write with growing pauses until it succeeds (the database restarting), so the mail is not sent twice', async () => {
    const { r, writes, sleeps, finishWrite } = recorder({ fail: 6 });
    const done = r.record(d('a'));
    await jest.advanceTimersByTimeAsync(0);
    expect(writes).toHaveLength(7);
    finishWrite();
    await expect(done).resolves.toBe(true);
    expect(sleeps).toHaveLength(6);
    for (let i = 1; i < sleeps.length; i++) expect(sleeps[i]).toBeGreaterThan(sleeps[i - 1]); // 50 ms doubling, ±25 % jitter
    expect(sleeps[0]).toBeGreaterThanOrEqual(37);
    expect(Math.max(...sleeps)).toBeLessThanOrEqual(2500);
  });

  it('gives up after retryForMs and answers false, so the row waits for its lease (at-least-once)', async () => {
    const { r, writes, sleeps } = recorder({ fail: 1_000, retryForMs: 10_000 });
    await expect(r.record(d('a'))).resolves.toBe(false);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(10_000);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(9_000);
    expect(writes.length).toBeGreaterThan(5);
    expect(writes.length).toBeLessThan(20);
  });

  it('never starts a try after the earliest lease in its group has ended, however long the retry window', async () => {
    const { r, sleeps } = recorder({ fail: 1_000, retryForMs: 60_000 });
    const leaseEndsAt = Date.now() + 3_000;
    await expect(r.record(d('a'), leaseEndsAt)).resolves.toBe(false);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3_000);
    expect(Date.now()).toBeGreaterThanOrEqual(leaseEndsAt);
  });

  it('stops retrying once the app shuts down', async () => {
    const { r, writes } = recorder({ fail: 1_000, stopping: () => true });
    await expect(r.record(d('a'))).resolves.toBe(false);
    expect(writes).toEqual([['a']]);
  });

  it('whenIdle writes a waiting group at once (shutdown does not wait out the delay)', async () => {
    const { r, writes, finishWrite } = recorder({ moreComing: () => true, delayMs: 1000 });
    const a = r.record(d('a'));
    const idle = r.whenIdle();
    expect(writes).toEqual([['a']]);
    finishWrite();
    await idle;
    await expect(a).resolves.toBe(true);
  });
});
