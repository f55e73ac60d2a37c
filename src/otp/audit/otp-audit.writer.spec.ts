import { randomUUID } from 'node:crypto';
import { mintChallengeId } from '../crypto/challenge-id';
import { OtpEventBus } from '../events/otp-event-bus';
import { canonicalBody } from './audit-chain';
import { resolveAuditOptions } from './audit-options';
import { auditRowOf, OtpAuditWriter } from './otp-audit.writer';
import { AuditRowInput, OtpAuditStore } from './otp-audit.store';

/** `OtpAuditStore.appendBatch` as the database answers it: a batch whose id is in already writes nothing. */
function batchStore(written: AuditRowInput[], ids: string[], before: (call: number) => Promise<void> | void = () => undefined) {
  const landed = new Set<string>();
  return {
    appendBatch: async (rows: AuditRowInput[], id: string) => {
      ids.push(id);
      await before(ids.length);
      if (landed.has(id)) return;
      landed.add(id);
      written.push(...rows);
    },
  } as unknown as OtpAuditStore;
}

describe('OtpAuditWriter', () => {
  function setup(failFirst: number, options = {}, failure: () => Error = () => new Error('database unreachable')) {
    const written: AuditRowInput[] = [];
    const ids: string[] = [];
    const store = batchStore(written, ids, (call) => {
      if (call <= failFirst) throw failure();
    });
    const bus = new OtpEventBus();
    const writer = new OtpAuditWriter(store, bus, { audit: resolveAuditOptions({ flushIntervalMs: 100_000, ...options }) });
    (writer as unknown as { logger: { error: () => void } }).logger = { error: () => undefined };
    writer.onModuleInit();
    return { writer, bus, written, ids };
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

  it('R40: every try of a batch carries the id of its first try (whatever the failure), and the next batch a new one', async () => {
    for (const failure of [() => Object.assign(new Error('duplicate key'), { code: '23505' }), () => Object.assign(new Error('connection failure'), { code: '08006' })]) {
      const { writer, bus, written, ids } = setup(2, {}, failure);
      bus.emit({ name: 'challenge.issued', outcome: 'success' });
      bus.emit({ name: 'verify.failed', outcome: 'failure' });
      await expect(writer.flush()).rejects.toThrow();
      bus.emit({ name: 'verify.succeeded', outcome: 'success' });
      await expect(writer.flush()).rejects.toThrow();
      await writer.flush();
      expect(ids).toHaveLength(4);
      expect(new Set(ids.slice(0, 3)).size).toBe(1);
      expect(ids[3]).not.toBe(ids[0]);
      expect(ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id))).toBe(true);
      expect(written.map((r) => r.event)).toEqual(['challenge.issued', 'verify.failed', 'verify.succeeded']);
    }
  });

  it('R40: events that overflow the queue while a batch is being appended drop no row of that batch and write none twice', async () => {
    const written: AuditRowInput[] = [];
    let release!: () => void;
    // The first append commits, but only after the queue has overflowed, and its answer is lost.
    const inner = batchStore(written, []);
    let calls = 0;
    const store = {
      appendBatch: async (rows: AuditRowInput[], id: string) => {
        if (++calls === 1) {
          await new Promise<void>((resolve) => (release = resolve));
          await inner.appendBatch(rows, id);
          throw Object.assign(new Error('connection failure'), { code: '08006' });
        }
        return inner.appendBatch(rows, id);
      },
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

  it('stops retrying once the application has shut down (the database connection is closed by then)', async () => {
    jest.useFakeTimers();
    try {
      const { writer, bus, ids } = setup(1_000);
      bus.emit({ name: 'challenge.issued', outcome: 'success' });
      await writer.beforeApplicationShutdown();
      const tries = ids.length;
      expect(tries).toBeGreaterThanOrEqual(1);
      await jest.advanceTimersByTimeAsync(120_000);
      expect(ids.length).toBe(tries);
      expect(writer.pending).toBe(1);
    } finally {
      jest.useRealTimers();
    }
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
