import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { OtpCipher } from '../../crypto/otp-cipher';
import type { OtpEventBus } from '../../events/otp-event-bus';
import type { ResolvedOtpOptions } from '../../otp-options.interface';
import { resolveOtpMailOptions } from '../otp-mail-options.resolver';
import type { OtpMailer } from '../otp-mailer.port';
import type { OtpMailOutboxStore, OutboxRow } from './otp-mail-outbox.store';
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
      cipher as unknown as OtpCipher, { emit: jest.fn() } as unknown as OtpEventBus, {} as DataSource);
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
