import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { OtpCipher } from '../../crypto/otp-cipher';
import type { OtpEventBus } from '../../events/otp-event-bus';
import type { ResolvedOtpOptions } from '../../options/otp-options.interface';
import { resolveOtpMailOptions } from '../mail-options';
import type { OtpMailer } from '../otp-mailer.port';
import type { OtpMailOutboxStore, OutboxRow } from './otp-mail-outbox.store';
import { OtpSchemaState } from '../../persistence/otp-schema.state';
import { OtpMailDispatcher } from './otp-mail.dispatcher';

/** A relay so slow that the port answers after the send timeout (half the lease). */
describe('OtpMailDispatcher with a port slower than its send timeout', () => {
  const row: OutboxRow = {
    id: '00000000-0000-4000-8000-00000000000a', challengeId: '00000000-0000-4000-8000-00000000000c', kind: 'code',
    purpose: 'login', recipientIndex: 'ri', payloadCiphertext: 'sealed', attempts: 1,
    deadlineAt: new Date(Date.now() + 600_000), action: 'claimed', lastError: null,
  };
  let answer: { resolve: (v: unknown) => void; reject: (e: Error) => void };
  let store: { claimDue: jest.Mock; markDelivered: jest.Mock; scheduleRetry: jest.Mock; markAbandoned: jest.Mock };
  let dispatcher: OtpMailDispatcher;

  beforeEach(() => {
    jest.useFakeTimers();
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    store = {
      claimDue: jest.fn().mockResolvedValueOnce([row]).mockResolvedValue([]),
      markDelivered: jest.fn(async (batch: { id: string }[]) => batch.map((d) => d.id)),
      scheduleRetry: jest.fn().mockResolvedValue('pending'),
      markAbandoned: jest.fn(),
    };
    const mailer = { send: jest.fn(() => new Promise((resolve, reject) => (answer = { resolve, reject }))) };
    const cipher = { decrypt: () => JSON.stringify({ kind: 'code', to: 'a@example.test', code: '123456', purpose: 'login', requestedAt: new Date().toISOString() }) };
    const options = { mail: resolveOtpMailOptions({ leaseSeconds: 60 }, false) } as unknown as ResolvedOtpOptions;
    dispatcher = new OtpMailDispatcher(options, store as unknown as OtpMailOutboxStore, mailer as unknown as OtpMailer,
      cipher as unknown as OtpCipher, { emit: jest.fn() } as unknown as OtpEventBus, {} as DataSource, new OtpSchemaState());
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('keeps the claim past the timeout (no retry that would send it twice) and records the late acceptance', async () => {
    const round = dispatcher.round();
    await jest.advanceTimersByTimeAsync(31_000); // past the send timeout (30 s)
    expect(store.scheduleRetry).not.toHaveBeenCalled();
    answer.resolve({ messageId: '<m@example.test>', response: '250 ok' });
    await jest.advanceTimersByTimeAsync(0);
    await round;
    expect(store.markDelivered).toHaveBeenCalledWith([{ id: row.id, messageId: '<m@example.test>', response: '250 ok' }]);
    expect(store.scheduleRetry).not.toHaveBeenCalled();
  });

  it('leaves a row whose port never answers to its lease: nothing recorded, no retry scheduled', async () => {
    const round = dispatcher.round();
    await jest.advanceTimersByTimeAsync(60_000);
    await round;
    expect(store.scheduleRetry).not.toHaveBeenCalled();
    expect(store.markDelivered).not.toHaveBeenCalled();
  });

  it('a port that fails late is retried as any failure', async () => {
    const round = dispatcher.round();
    await jest.advanceTimersByTimeAsync(31_000);
    answer.reject(Object.assign(new Error('connection lost'), { code: 'ECONNRESET' }));
    await jest.advanceTimersByTimeAsync(0);
    await round;
    expect(store.scheduleRetry).toHaveBeenCalledTimes(1);
  });
});

/** A port with one connection: the dispatcher keeps the rest of a claim in its own queue. */
describe('OtpMailDispatcher hands a port no more messages than its concurrency', () => {
  const base = {
    purpose: 'login', recipientIndex: 'ri', payloadCiphertext: 'sealed', attempts: 1, kind: 'code' as const,
    action: 'claimed' as const, lastError: null,
  };
  const rowOf = (n: number, deadlineInMs = 600_000): OutboxRow => ({
    ...base, id: `00000000-0000-4000-8000-00000000010${n}`, challengeId: `00000000-0000-4000-8000-00000000020${n}`,
    deadlineAt: new Date(Date.now() + deadlineInMs),
  });
  let answers: { resolve: (v: unknown) => void }[];
  let store: Record<'claimDue' | 'markDelivered' | 'scheduleRetry' | 'markAbandoned' | 'challengeEnded', jest.Mock>;
  let mailer: { concurrency: number; send: jest.Mock };
  const make = (rows: OutboxRow[]) => {
    store.claimDue.mockResolvedValueOnce(rows).mockResolvedValue([]);
    const cipher = { decrypt: () => JSON.stringify({ kind: 'code', to: 'a@example.test', code: '123456', purpose: 'login', requestedAt: new Date().toISOString() }) };
    const options = { mail: resolveOtpMailOptions({ leaseSeconds: 60 }, false) } as unknown as ResolvedOtpOptions;
    return new OtpMailDispatcher(options, store as unknown as OtpMailOutboxStore, mailer as unknown as OtpMailer,
      cipher as unknown as OtpCipher, { emit: jest.fn() } as unknown as OtpEventBus, {} as DataSource, new OtpSchemaState());
  };

  beforeEach(() => {
    jest.useFakeTimers();
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    answers = [];
    store = {
      claimDue: jest.fn(),
      markDelivered: jest.fn(async (batch: { id: string }[]) => batch.map((d) => d.id)),
      scheduleRetry: jest.fn().mockResolvedValue('pending'),
      markAbandoned: jest.fn().mockResolvedValue(true),
      challengeEnded: jest.fn().mockResolvedValue(false),
    };
    mailer = { concurrency: 1, send: jest.fn(() => new Promise((resolve) => answers.push({ resolve }))) };
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('hands the second message over only when the first is answered, and times its send from then', async () => {
    const round = make([rowOf(1), rowOf(2)]).round();
    await jest.advanceTimersByTimeAsync(25_000);
    expect(mailer.send).toHaveBeenCalledTimes(1);
    answers[0].resolve({ messageId: '<1@x>', response: '250 ok' });
    await jest.advanceTimersByTimeAsync(0);
    expect(mailer.send).toHaveBeenCalledTimes(2);
    // 25 s after the hand-over (50 s after the claim) the second send is still within its 30 s.
    await jest.advanceTimersByTimeAsync(25_000);
    answers[1].resolve({ messageId: '<2@x>', response: '250 ok' });
    await jest.advanceTimersByTimeAsync(0);
    await round;
    expect(store.scheduleRetry).not.toHaveBeenCalled();
    expect(store.markDelivered.mock.calls.flat(2).map((d: { id: string }) => d.id).sort()).toEqual([rowOf(1).id, rowOf(2).id]);
  });

  it('abandons a message whose deadline passed while it waited for a connection, without sending it', async () => {
    const round = make([rowOf(1), rowOf(2, 10_000)]).round();
    await jest.advanceTimersByTimeAsync(20_000);
    answers[0].resolve({});
    await jest.advanceTimersByTimeAsync(0);
    await round;
    expect(mailer.send).toHaveBeenCalledTimes(1);
    expect(store.markAbandoned).toHaveBeenCalledWith(rowOf(2).id, 'deadline');
  });

  it('abandons a code whose challenge ended while it waited for a connection, without sending it', async () => {
    store.challengeEnded.mockImplementation(async (id: string) => id === rowOf(2).challengeId);
    const round = make([rowOf(1), rowOf(2), rowOf(3)]).round();
    await jest.advanceTimersByTimeAsync(5_000);
    answers[0].resolve({});
    await jest.advanceTimersByTimeAsync(0);
    // The connection the abandoned one did not use goes to the next message.
    expect(mailer.send).toHaveBeenCalledTimes(2);
    answers[1].resolve({});
    await jest.advanceTimersByTimeAsync(0);
    await round;
    expect(store.challengeEnded).toHaveBeenCalledWith(rowOf(2).challengeId);
    expect(store.markAbandoned).toHaveBeenCalledWith(rowOf(2).id, 'challenge_ended');
  });

  it('looks a queued code\'s challenge up without holding the connection: the next message goes out meanwhile', async () => {
    const lookups = new Map<string, (ended: boolean) => void>();
    store.challengeEnded.mockImplementation((id: string) => new Promise<boolean>((resolve) => lookups.set(id, resolve)));
    const answer = async (n: number) => {
      answers[n].resolve({});
      await jest.advanceTimersByTimeAsync(0);
    };
    const round = make([rowOf(1), rowOf(2), rowOf(3)]).round();
    await jest.advanceTimersByTimeAsync(3_000);
    await answer(0);
    // Messages 2 and 3 both waited over a second: both are looked up, neither holds the connection.
    expect([...lookups.keys()].sort()).toEqual([rowOf(2).challengeId, rowOf(3).challengeId].sort());
    lookups.get(rowOf(3).challengeId!)!(false);
    await jest.advanceTimersByTimeAsync(0);
    expect(mailer.send).toHaveBeenCalledTimes(2); // message 3 went while message 2's lookup runs
    lookups.get(rowOf(2).challengeId!)!(false);
    await jest.advanceTimersByTimeAsync(0);
    expect(mailer.send).toHaveBeenCalledTimes(2); // the one connection is message 3's until it is answered
    await answer(1);
    expect(mailer.send).toHaveBeenCalledTimes(3); // then message 2 goes first
    await answer(2);
    await round;
    expect(store.markAbandoned).not.toHaveBeenCalled();
    expect(store.markDelivered.mock.calls.flat(2).map((d: { id: string }) => d.id).sort()).toEqual([rowOf(1).id, rowOf(2).id, rowOf(3).id]);
  });

  it('releases a message whose lease is nearly over when a connection frees, for another dispatcher, without sending it', async () => {
    const round = make([rowOf(1), rowOf(2)]).round();
    await jest.advanceTimersByTimeAsync(48_000); // the lease (60 s, less its 5 s margin) has 7 s left
    answers[0].resolve({});
    await jest.advanceTimersByTimeAsync(0);
    await round;
    expect(mailer.send).toHaveBeenCalledTimes(1);
    expect(store.scheduleRetry).toHaveBeenCalledWith(rowOf(2).id, 'timeout', 0);
  });
});

/** Mail written while a claim is recent waits for the next one: one statement for many, a lone mail at once. */
describe('OtpMailDispatcher spaces the claims that wake-ups start (claimIntervalMs)', () => {
  let written = 0;
  let claimDue: jest.Mock;
  let send: jest.Mock;
  const start = async (claimIntervalMs: number) => {
    written = 0;
    claimDue = jest.fn(async (_worker: string, limit: number) => {
      const n = Math.min(limit, written);
      written -= n;
      return Array.from({ length: n }, (_, i) => ({
        id: `00000000-0000-4000-8000-${String(claimDue.mock.calls.length * 100 + i).padStart(12, '0')}`, challengeId: null,
        kind: 'code', purpose: 'login', recipientIndex: 'ri', payloadCiphertext: 'sealed', attempts: 1,
        deadlineAt: new Date(Date.now() + 600_000), action: 'claimed', lastError: null,
      }));
    });
    send = jest.fn(async () => ({ messageId: '<m@x>', response: '250 ok' }));
    const store = { claimDue, markDelivered: jest.fn(async (batch: { id: string }[]) => batch.map((d) => d.id)), challengeEnded: jest.fn() };
    const cipher = { decrypt: () => JSON.stringify({ kind: 'code', to: 'a@example.test', code: '123456', purpose: 'login', requestedAt: new Date().toISOString() }) };
    const options = { mail: resolveOtpMailOptions({ leaseSeconds: 60, claimIntervalMs }, false) } as unknown as ResolvedOtpOptions;
    const dispatcher = new OtpMailDispatcher(options, store as unknown as OtpMailOutboxStore, { concurrency: 20, send } as unknown as OtpMailer,
      cipher as unknown as OtpCipher, { emit: jest.fn() } as unknown as OtpEventBus, { options: { type: 'embedded' } } as unknown as DataSource, new OtpSchemaState());
    await dispatcher.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
    return dispatcher;
  };
  const write = (dispatcher: OtpMailDispatcher) => {
    written++;
    dispatcher.mailWritten();
  };

  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('ten mails written within 50 ms of a claim go out with one further claim, 50 ms after it', async () => {
    const dispatcher = await start(50);
    expect(claimDue).toHaveBeenCalledTimes(1); // the start-up claim
    for (let i = 0; i < 10; i++) {
      write(dispatcher);
      await jest.advanceTimersByTimeAsync(4);
    }
    expect(claimDue).toHaveBeenCalledTimes(1);
    expect(send).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(10);
    expect(claimDue).toHaveBeenCalledTimes(2);
    expect(send).toHaveBeenCalledTimes(10);
    await dispatcher.onModuleDestroy();
  });

  it('a lone mail after a quiet spell is claimed at once', async () => {
    const dispatcher = await start(50);
    await jest.advanceTimersByTimeAsync(100);
    write(dispatcher);
    await jest.advanceTimersByTimeAsync(0);
    expect(claimDue).toHaveBeenCalledTimes(2);
    expect(send).toHaveBeenCalledTimes(1);
    await dispatcher.onModuleDestroy();
  });

  it('with claimIntervalMs 0 each mail written after a claim finished starts its own', async () => {
    const dispatcher = await start(0);
    for (let i = 0; i < 3; i++) {
      write(dispatcher);
      await jest.advanceTimersByTimeAsync(1);
    }
    expect(claimDue).toHaveBeenCalledTimes(4);
    expect(send).toHaveBeenCalledTimes(3);
    await dispatcher.onModuleDestroy();
  });

  it('stopping does not wait out the interval: a held claim is let go and claims nothing', async () => {
    const dispatcher = await start(1_000);
    write(dispatcher);
    await jest.advanceTimersByTimeAsync(1);
    expect(jest.getTimerCount()).toBe(1); // the held claim's
    let done = false;
    const stopped = dispatcher.onModuleDestroy().then(() => (done = true));
    await jest.advanceTimersByTimeAsync(0); // no time passes
    expect(done).toBe(true);
    await stopped;
    expect(jest.getTimerCount()).toBe(0);
    expect(claimDue).toHaveBeenCalledTimes(1);
  });
});
