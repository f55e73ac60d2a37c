import { ThrottlerStorage, ThrottlerStorageService } from '@nestjs/throttler';
import { OtpEvent } from '../events/otp-event';
import { OtpEventBus } from '../events/otp-event-bus';
import { OtpThrottledError, OtpUnavailableError } from '../core/otp.errors';
import { ResolvedOtpOptions } from '../options/otp-options.interface';
import { resolveRateLimits } from './rate-limit-options';
import { OtpSend, OtpSendLimiter } from './otp-send-limiter';
import { OtpMemoryThrottlerStorage } from './memory-throttler-storage';

/** A limiter on `storage` whose events land in `events`. */
function limiterOn(storage: ThrottlerStorage, events: OtpEvent[], limits: Parameters<typeof resolveRateLimits>[0]): OtpSendLimiter {
  const bus = new OtpEventBus();
  bus.subscribe((e) => void events.push(e));
  return new OtpSendLimiter({ rateLimits: resolveRateLimits(limits) } as ResolvedOtpOptions, storage, bus);
}
const send = (over: Partial<OtpSend> = {}): OtpSend => ({ scope: 'issue', recipientIndex: 'r1', purpose: 'login', ip: '203.0.113.7', ...over });

describe('OtpSendLimiter on a host storage with only increment (@nestjs/throttler\'s in-memory store: one key at a time)', () => {
  let storage: ThrottlerStorageService;
  let events: OtpEvent[];

  const limiter = (limits: Parameters<typeof resolveRateLimits>[0]) => limiterOn(storage, events, limits);
  const hits = (name: string) => [...storage.storage.entries()].filter(([k]) => k.includes(`:${name}:`)).reduce((n, [, r]) => n + (r.totalHits.get(name) ?? 0), 0);

  beforeEach(() => {
    storage = new ThrottlerStorageService();
    events = [];
  });
  afterEach(() => storage.onApplicationShutdown());

  it('a send refused for its recipient is counted by neither its network nor the global budget', async () => {
    const l = limiter({ recipient: { limit: 1 } });
    await l.count(send());
    await expect(l.count(send())).rejects.toBeInstanceOf(OtpThrottledError);
    await expect(l.count(send({ recipientIndex: 'r1', purpose: 'login', ip: '198.51.100.1' }))).rejects.toBeInstanceOf(OtpThrottledError);
    expect([hits('network-send'), hits('global-send')]).toEqual([1, 1]);
    expect(events.map((e) => e.detail)).toEqual([{ throttler: 'recipient', scope: 'issue' }, { throttler: 'recipient', scope: 'issue' }]);
  });

  it('network-send groups IPv4 by /24 (IPv4-mapped IPv6 included) and IPv6 by /48; sends without an IP share one network', async () => {
    const l = limiter({ networkSend: { limit: 2 } });
    await l.count(send({ recipientIndex: 'a', ip: '203.0.113.1' }));
    await l.count(send({ recipientIndex: 'b', ip: '::ffff:203.0.113.200' }));
    await expect(l.count(send({ recipientIndex: 'c', ip: '203.0.113.9' }))).rejects.toBeInstanceOf(OtpThrottledError);
    await l.count(send({ recipientIndex: 'd', ip: '2001:db8:5:1::1' }));
    await l.count(send({ recipientIndex: 'e', ip: '2001:db8:5:2::1' }));
    await expect(l.count(send({ recipientIndex: 'f', ip: '2001:db8:5:3::1' }))).rejects.toBeInstanceOf(OtpThrottledError);
    await l.count(send({ recipientIndex: 'g', ip: undefined }));
    await l.count(send({ recipientIndex: 'h', ip: 'not an ip' }));
    await expect(l.count(send({ recipientIndex: 'i', ip: undefined }))).rejects.toBeInstanceOf(OtpThrottledError);
    expect(hits('global-send')).toBe(6);
  });

  it('emits rate_limit.near once, on the send that takes the global counter to 80 %', async () => {
    const l = limiter({ globalSend: { limit: 10, ttlSeconds: 60 } });
    for (let i = 0; i < 10; i++) await l.count(send({ recipientIndex: `r${i}`, ip: `192.0.${i}.1` }));
    expect(events).toEqual([expect.objectContaining({
      name: 'rate_limit.near', detail: { throttler: 'global-send', hits: 8, threshold: 8, limit: 10, windowSeconds: 60 },
    })]);
  });

  it('fails closed: a store that cannot answer is OtpUnavailableError', async () => {
    const l = limiter({});
    jest.spyOn(storage, 'increment').mockRejectedValue(new Error('ECONNREFUSED'));
    await expect(l.count(send())).rejects.toBeInstanceOf(OtpUnavailableError);
  });
});

describe('OtpSendLimiter on the module\'s in-memory store (one pass per send)', () => {
  let storage: OtpMemoryThrottlerStorage;
  let events: OtpEvent[];
  const limiter = (limits: Parameters<typeof resolveRateLimits>[0]) => limiterOn(storage, events, limits);

  beforeEach(() => {
    events = [];
  });
  afterEach(() => storage.onModuleDestroy());

  it('R11: counts the four send throttlers in one storage call, and a send refused for its recipient spends no network or global budget', async () => {
    storage = new OtpMemoryThrottlerStorage({ maxKeys: 1000 });
    const calls = jest.spyOn(storage, 'incrementInOrder');
    const increments = jest.spyOn(storage, 'increment');
    const l = limiter({ recipient: { limit: 1 }, networkSend: { limit: 2 } });
    await l.count(send());
    expect(calls).toHaveBeenCalledTimes(1);
    expect(calls.mock.calls[0][0].map((h) => h.throttlerName)).toEqual(['recipient', 'recipient-daily', 'network-send', 'global-send']);
    for (let i = 0; i < 3; i++) await expect(l.count(send())).rejects.toBeInstanceOf(OtpThrottledError);
    // The network's budget (2) is untouched by the three refusals: another recipient of it still gets one send.
    await l.count(send({ recipientIndex: 'r2' }));
    await expect(l.count(send({ recipientIndex: 'r3' }))).rejects.toBeInstanceOf(OtpThrottledError);
    expect(increments).not.toHaveBeenCalled();
    expect(events.map((e) => e.detail?.throttler)).toEqual(['recipient', 'recipient', 'recipient', 'network-send']);
  });

  it('R11: a full store refuses the send fail-closed (OtpUnavailableError) and emits rate_limit.store_full', async () => {
    storage = new OtpMemoryThrottlerStorage({ maxKeys: 1000 });
    const l = limiter({});
    for (let i = 0; i < 997; i++) await storage.increment(`other-${i}`, 60_000, 10, 60_000, 'other');
    // A first send needs four new counters: 997 + 4 > 1000.
    await expect(l.count(send())).rejects.toBeInstanceOf(OtpUnavailableError);
    expect(events).toEqual([expect.objectContaining({ name: 'rate_limit.store_full', outcome: 'failure', ip: '203.0.113.7', detail: { scope: 'issue', keys: 997, maxKeys: 1000 } })]);
    expect(storage.size).toBe(997);
  });
});

describe('OtpSendLimiter on a host ordered storage', () => {
  it('R11: fails closed (503) when the storage answers fewer records than counters without a refusal, or more', async () => {
    const record = { totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 };
    for (const answer of [[], [record], [record, record, record, record, record]]) {
      const storage = { increment: jest.fn(), incrementInOrder: jest.fn(async () => answer) } as unknown as ThrottlerStorage;
      await expect(limiterOn(storage, [], {}).count(send())).rejects.toBeInstanceOf(OtpUnavailableError);
    }
    const full = { increment: jest.fn(), incrementInOrder: jest.fn(async () => [record, record, record, record]) } as unknown as ThrottlerStorage;
    await expect(limiterOn(full, [], {}).count(send())).resolves.toBeUndefined();
  });
});
