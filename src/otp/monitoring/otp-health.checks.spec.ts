import { cachedHealthCheck } from './otp-health.checks';

describe('cachedHealthCheck (the /health SMTP probe)', () => {
  let now = 0;
  const clock = () => now;

  function probe(outcomes: ('up' | 'down')[]) {
    const calls: ((v?: unknown) => void)[] = [];
    const fn = jest.fn(
      () =>
        new Promise<unknown>((resolve, reject) => {
          const outcome = outcomes[fn.mock.calls.length - 1] ?? 'up';
          calls.push(() => (outcome === 'up' ? resolve('ok') : reject(new Error('relay down'))));
        }),
    );
    return { fn, settleAll: () => calls.splice(0).forEach((settle) => settle()) };
  }

  it('concurrent callers share the one probe in flight', async () => {
    const p = probe(['up']);
    const check = cachedHealthCheck(p.fn, 10_000, clock);
    const all = Promise.all(Array.from({ length: 20 }, () => check()));
    p.settleAll();
    await expect(all).resolves.toHaveLength(20);
    expect(p.fn).toHaveBeenCalledTimes(1);
  });

  it('reuses an outcome, up or down, until the time to live has passed on its clock', async () => {
    now = 1_000;
    const p = probe(['down', 'up']);
    const check = cachedHealthCheck(p.fn, 10_000, clock);
    const first = check();
    p.settleAll();
    await expect(first).rejects.toThrow('relay down');
    now += 9_999;
    await expect(check()).rejects.toThrow('relay down');
    expect(p.fn).toHaveBeenCalledTimes(1);
    now += 1;
    const again = check();
    p.settleAll();
    await expect(again).resolves.toBe('ok');
    expect(p.fn).toHaveBeenCalledTimes(2);
  });

  it('a time to live of 0 probes on every call', async () => {
    const p = probe([]);
    const check = cachedHealthCheck(p.fn, 0, clock);
    const calls = [check(), check(), check()];
    p.settleAll();
    await Promise.all(calls);
    expect(p.fn).toHaveBeenCalledTimes(3);
  });
});
