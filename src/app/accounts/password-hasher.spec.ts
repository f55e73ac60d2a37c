import { OtpUnavailableError } from 'nestjs-email-otp';
import { PasswordHasher, ScryptGate } from './password-hasher';
import { accountsSettingsFromEnv } from './accounts.settings';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('ScryptGate: a cap on concurrent scrypt work', () => {
  it('runs at most maxConcurrent tasks, queues maxQueued in arrival order, and refuses the rest with 503', async () => {
    const gate = new ScryptGate({ maxConcurrent: 2, maxQueued: 2 });
    const order: number[] = [];
    let running = 0;
    let peak = 0;
    const release = Array.from({ length: 4 }, deferred);
    const task = (i: number) => gate.run(async () => {
      order.push(i);
      peak = Math.max(peak, ++running);
      await release[i].promise;
      running--;
      return i;
    });
    const done = [0, 1, 2, 3].map(task);
    await expect(task(4)).rejects.toBeInstanceOf(OtpUnavailableError);
    expect([gate.inFlight, gate.queued]).toEqual([2, 2]);
    release[1].resolve();
    await done[1];
    release[0].resolve();
    release[2].resolve();
    release[3].resolve();
    expect(await Promise.all(done)).toEqual([0, 1, 2, 3]);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(peak).toBe(2);
    expect([gate.inFlight, gate.queued]).toEqual([0, 0]);
  });

  it('frees the slot of a task that failed', async () => {
    const gate = new ScryptGate({ maxConcurrent: 1, maxQueued: 0 });
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.run(async () => 'next')).resolves.toBe('next');
  });

  it('the hasher derives through its gate: with one slot and no queue, a second concurrent verification is refused', async () => {
    const hasher = new PasswordHasher(accountsSettingsFromEnv({ PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE: '0' }));
    const stored = await hasher.hash('correct horse battery staple');
    const both = await Promise.allSettled([hasher.verify('correct horse battery staple', stored), hasher.verify('wrong', stored)]);
    expect(both[0]).toEqual({ status: 'fulfilled', value: true });
    expect(both[1]).toMatchObject({ status: 'rejected', reason: expect.any(OtpUnavailableError) });
    await expect(hasher.verify('wrong', stored)).resolves.toBe(false);
  });

  it('refuses a malformed PASSWORD_HASH_CONCURRENCY at start-up with one clear line', () => {
    expect(() => accountsSettingsFromEnv({ PASSWORD_HASH_CONCURRENCY: '0' })).toThrow('PASSWORD_HASH_CONCURRENCY must be an integer from 1 to 64 (got "0")');
    expect(() => accountsSettingsFromEnv({ RATE_LIMIT_PASSWORD_ACCOUNT: 'five' })).toThrow(/RATE_LIMIT_PASSWORD_ACCOUNT must look like "limit\/seconds"/);
  });
});
