import { outboxMessage } from './outbox-message.mapper';

describe('outboxMessage: an opened outbox payload as the mail port message', () => {
  const row = { id: '00000000-0000-4000-8000-00000000000a', challengeId: '00000000-0000-4000-8000-00000000000c', deadlineAt: new Date('2026-11-25T18:00:00Z') };

  it('a code mail expires at the row deadline and carries the row id as its Message-ID', () => {
    const out = outboxMessage(row, {
      kind: 'code', to: 'a@example.com', code: '123456', purpose: 'login', locale: 'de', ip: '192.0.2.1', userAgent: 'ua',
      context: { amount: 5 }, requestedAt: '2026-11-25T17:50:00.000Z',
    });
    expect(out).toEqual({
      code: {
        challengeId: row.challengeId, to: 'a@example.com', code: '123456', purpose: 'login', locale: 'de', context: { amount: 5 },
        expiresAt: row.deadlineAt, requestedAt: new Date('2026-11-25T17:50:00.000Z'), ip: '192.0.2.1', userAgent: 'ua', messageId: row.id,
      },
    });
  });

  it('a budget notice names its challenge and the lock; a new-device notice carries only the coarse facts', () => {
    expect(outboxMessage(row, {
      kind: 'budget-notice', to: 'a@example.com', happenedAt: '2026-11-25T17:55:00.000Z', lockSeconds: 3600, ip: '192.0.2.1',
    })).toEqual({
      notice: {
        kind: 'budget-notice', challengeId: row.challengeId, to: 'a@example.com', locale: undefined, ip: '192.0.2.1', userAgent: undefined,
        happenedAt: new Date('2026-11-25T17:55:00.000Z'), lockSeconds: 3600, messageId: row.id,
      },
    });
    const notice = outboxMessage({ ...row, challengeId: null }, {
      kind: 'new-device-notice', to: 'a@example.com', browser: 'Firefox on Linux', network: '192.0.2.0/24', happenedAt: '2026-11-25T17:55:00.000Z',
    });
    expect(notice).toEqual({
      notice: {
        kind: 'new-device-notice', to: 'a@example.com', locale: undefined, browser: 'Firefox on Linux', network: '192.0.2.0/24',
        happenedAt: new Date('2026-11-25T17:55:00.000Z'), messageId: row.id,
      },
    });
  });
});
