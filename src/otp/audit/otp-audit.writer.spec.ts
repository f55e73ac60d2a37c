import { randomUUID } from 'node:crypto';
import { mintChallengeId } from '../crypto/challenge-id';
import { OtpEventBus } from '../events/otp-event-bus';
import { canonicalBody } from './audit-chain';
import { resolveAuditOptions } from './audit-options';
import { auditRowOf, OtpAuditWriter } from './otp-audit.writer';
import { AuditRowInput, OtpAuditStore } from './otp-audit.store';

/** `OtpAuditStore.landed` as the database answers it: `rows`, in order, one after another in what was written. */
const landedIn = (written: AuditRowInput[]) => async (rows: AuditRowInput[]) => {
  const at = written.indexOf(rows[0]);
  return at >= 0 && rows.every((r, i) => written[at + i] === r) ? String(at + rows.length) : null;
};

describe('OtpAuditWriter', () => {
  function setup(failFirst: number, options = {}, failure: () => Error = () => new Error('database unreachable')) {
    const written: AuditRowInput[] = [];
    const lookups: number[] = [];
    let calls = 0;
    const store = {
      appendChained: async (rows: AuditRowInput[]) => {
        calls++;
        if (calls <= failFirst) throw failure();
        written.push(...rows);
        return String(written.length);
      },
      landed: (rows: AuditRowInput[]) => {
        lookups.push(rows.length);
        return landedIn(written)(rows);
      },
    } as unknown as OtpAuditStore;
    const bus = new OtpEventBus();
    const writer = new OtpAuditWriter(store, bus, { audit: resolveAuditOptions({ flushIntervalMs: 100_000, ...options }) });
    (writer as unknown as { logger: { error: () => void } }).logger = { error: () => undefined };
    writer.onModuleInit();
    return { writer, bus, written, lookups };
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

  it('R40: looks for a batch in the chain before appending it again only when the outcome of the failed append is unknown', async () => {
    const refused = setup(1, {}, () => Object.assign(new Error('duplicate key'), { code: '23505' }));
    refused.bus.emit({ name: 'challenge.issued', outcome: 'success' });
    await expect(refused.writer.flush()).rejects.toThrow('duplicate key');
    await refused.writer.flush();
    expect(refused.lookups).toEqual([]);
    expect(refused.written).toHaveLength(1);
    const lost = setup(1, {}, () => Object.assign(new Error('connection failure'), { code: '08006' }));
    lost.bus.emit({ name: 'challenge.issued', outcome: 'success' });
    lost.bus.emit({ name: 'verify.failed', outcome: 'failure' });
    await expect(lost.writer.flush()).rejects.toThrow('connection failure');
    lost.bus.emit({ name: 'verify.succeeded', outcome: 'success' });
    await lost.writer.flush();
    expect(lost.lookups).toEqual([2]);
    expect(lost.written.map((r) => r.event)).toEqual(['challenge.issued', 'verify.failed', 'verify.succeeded']);
  });

  it('R40: events that overflow the queue while a batch is being appended drop no row of that batch and write none twice', async () => {
    const written: AuditRowInput[] = [];
    let release!: () => void;
    let calls = 0;
    const store = {
      // The first append commits, but only after the queue has overflowed, and its answer is lost.
      appendChained: async (rows: AuditRowInput[]) => {
        if (++calls === 1) {
          await new Promise<void>((resolve) => (release = resolve));
          written.push(...rows);
          throw Object.assign(new Error('connection failure'), { code: '08006' });
        }
        written.push(...rows);
        return String(written.length);
      },
      landed: landedIn(written),
    } as unknown as OtpAuditStore;
    const bus = new OtpEventBus();
    const writer = new OtpAuditWriter(store, bus, { audit: resolveAuditOptions({ flushIntervalMs: 100_000, batchSize: 2, maxQueue: 3 }) });
    (writer as unknown as { logger: { error: () => void } }).logger = { error: () => undefined };
    writer.onModuleInit();
    bus.emit({ name: 'e', outcome: 'success', detail: { i: 0 } });
    bus.emit({ name: 'e', outcome: 'success', detail: { i: 1 } }); // a full batch: its append starts
    for (let i = 2; i < 7; i++) bus.emit({ name: 'e', outcome: 'success', detail: { i } });
    release();
    await writer.flush().catch(() => undefined);
    await writer.flush();
    const seen = written.map((r) => r.detail?.i);
    expect(seen.slice(0, 2)).toEqual([0, 1]);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length + writer.dropped).toBe(7);
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
