import { randomUUID } from 'node:crypto';
import { mintChallengeId } from '../crypto/challenge-id';
import { OtpEventBus } from '../events/otp-event-bus';
import { canonicalBody } from './audit-chain';
import { resolveAuditOptions } from './audit-options';
import { auditRowOf, OtpAuditWriter } from './otp-audit.writer';
import { AuditRowInput, OtpAuditStore } from './otp-audit.store';

describe('OtpAuditWriter', () => {
  function setup(failFirst: number, options = {}) {
    const written: AuditRowInput[] = [];
    let calls = 0;
    const store = {
      appendChained: async (rows: AuditRowInput[]) => {
        calls++;
        if (calls <= failFirst) throw new Error('database unreachable');
        written.push(...rows);
      },
    } as unknown as OtpAuditStore;
    const bus = new OtpEventBus();
    const writer = new OtpAuditWriter(store, bus, { audit: resolveAuditOptions({ flushIntervalMs: 100_000, ...options }) });
    (writer as unknown as { logger: { error: () => void } }).logger = { error: () => undefined };
    writer.onModuleInit();
    return { writer, bus, written };
  }

  it('queues events off the request path and writes them in order at flush', async () => {
    const { writer, bus, written } = setup(0);
    for (let i = 0; i < 5; i++) bus.emit({ name: 'verify.failed', outcome: 'failure', detail: { attempt: i } });
    expect(written).toHaveLength(0);
    expect(writer.pending).toBe(5);
    await writer.flush();
    expect(written.map((r) => r.detail?.attempt)).toEqual([0, 1, 2, 3, 4]);
  });

  it('keeps events while the database fails and writes them all at shutdown', async () => {
    const { writer, bus, written } = setup(2);
    bus.emit({ name: 'challenge.issued', outcome: 'success' });
    await expect(writer.flush()).rejects.toThrow('database unreachable');
    bus.emit({ name: 'verify.failed', outcome: 'failure' });
    await expect(writer.flush()).rejects.toThrow();
    expect(writer.pending).toBe(2);
    await writer.beforeApplicationShutdown();
    expect(written.map((r) => r.event)).toEqual(['challenge.issued', 'verify.failed']);
    expect(writer.pending).toBe(0);
  });

  it('drops the oldest events beyond maxQueue, and counts them', async () => {
    const { writer, bus, written } = setup(1, { maxQueue: 3 });
    await expect(writer.flush()).resolves.toBeUndefined();
    for (let i = 0; i < 5; i++) bus.emit({ name: 'e', outcome: 'success', detail: { i } });
    expect(writer.dropped).toBe(2);
    await writer.flush().catch(() => undefined);
    await writer.flush();
    expect(written.map((r) => r.detail?.i)).toEqual([2, 3, 4]);
  });

  it('R30: a row holds the challenge id with its recipient tag zeroed, in the column and in the chained body', () => {
    const id = mintChallengeId('0123456789abc');
    const row = auditRowOf({ name: 'verify.failed', outcome: 'failure', challengeId: id, at: new Date() });
    expect(row.challengeId).toBe(`00000000-0000-80${id.slice(16)}`);
    expect(canonicalBody(row)).toContain(row.challengeId);
    expect(canonicalBody(row)).not.toContain('01234567');
    // An id without a tag (v4, from before tags) and no id are kept as they are.
    const v4 = randomUUID();
    expect(auditRowOf({ name: 'verify.failed', outcome: 'failure', challengeId: v4, at: new Date() }).challengeId).toBe(v4);
    expect(auditRowOf({ name: 'verify.failed', outcome: 'failure', at: new Date() }).challengeId).toBeNull();
  });
});
