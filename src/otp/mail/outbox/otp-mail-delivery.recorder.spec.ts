import { OtpMailDeliveryRecorder } from './otp-mail-delivery.recorder';
import { OutboxDelivery } from './otp-mail-outbox.store';

const d = (id: string): OutboxDelivery => ({ id, messageId: `<${id}@example.test>`, response: '250 ok' });

describe('OtpMailDeliveryRecorder (group commit of deliveries)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function recorder(opts: { moreComing?: () => boolean; delayMs?: number; fail?: number } = {}) {
    const writes: string[][] = [];
    let failures = opts.fail ?? 0;
    let release: (() => void) | undefined;
    const r = new OtpMailDeliveryRecorder({
      write: async (batch) => {
        writes.push(batch.map((x) => x.id));
        if (failures-- > 0) throw new Error('Connection terminated unexpectedly');
        await new Promise<void>((res) => (release = res));
      },
      onError: () => undefined,
      moreComing: opts.moreComing ?? (() => false),
      delayMs: opts.delayMs ?? 0,
    });
    return { r, writes, finishWrite: () => release?.() };
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

  it('answers false after three failed writes, so the row waits for its lease (at-least-once)', async () => {
    const { r, writes } = recorder({ fail: 3 });
    await expect(r.record(d('a'))).resolves.toBe(false);
    expect(writes).toEqual([['a'], ['a'], ['a']]);
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
