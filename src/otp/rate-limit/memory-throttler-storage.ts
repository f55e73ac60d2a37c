import { OnModuleDestroy } from '@nestjs/common';
import { OtpEventBus } from '../events/otp-event-bus';
import { OtpOrderedThrottlerStorage, OtpThrottlerHit, OtpThrottlerRecord } from './otp-throttler-storage';

/** Per counter: hits in its window, end of the window, end of the block (ms since the epoch). */
const FIELDS = 3;
const INITIAL_SLOTS = 1024;
/** A full sweep when the store is full runs at most this often: a flood at the bound cannot make every request walk every key. */
const FULL_SWEEP_EVERY_MS = 1000;

/** The in-memory store holds `maxKeys` counters and a request needs a new one: refused (fail closed), never evicting another's. */
export class OtpRateLimitStoreFullError extends Error {
  override readonly name = 'OtpRateLimitStoreFullError';

  constructor(readonly keys: number, readonly maxKeys: number) {
    super(`the in-memory rate-limit store holds its maximum of ${maxKeys} counters`);
  }
}

export interface OtpMemoryThrottlerStorageOptions {
  /** Counters held at most; a request that needs a new one beyond it is refused with `OtpRateLimitStoreFullError`. */
  maxKeys: number;
  /** Milliseconds since the epoch (tests inject a clock). */
  now?: () => number;
  /** How often the sweeper runs (it visits about a thirtieth of the keys each time). */
  sweepIntervalMs?: number;
}

/**
 * The module's in-memory throttler storage: fixed-window counters with a block, exactly as the
 * Redis store counts (`INCR`, a window from the first hit, blocked for `blockDuration` once a
 * hit goes over the limit, hits while blocked still counted), in one synchronous pass per request.
 * Compact: a counter is a slot of three numbers in one `Float64Array` and a map entry from its
 * key; no timer or array per key. Expired counters are reset when met again and removed by one
 * sweeper that walks a slice of the keys per tick. Bounded: at `maxKeys` a request needing a new
 * counter is refused as a whole (nothing counted), so filling the store can make requests fail
 * closed but can never evict, and so reset, another client's counter.
 */
export class OtpMemoryThrottlerStorage implements OtpOrderedThrottlerStorage, OnModuleDestroy {
  readonly maxKeys: number;
  private readonly now: () => number;
  /** throttler name -> key -> slot. */
  private readonly counters = new Map<string, Map<string, number>>();
  private slab = new Float64Array(INITIAL_SLOTS * FIELDS);
  private readonly free: number[] = [];
  private allocated = 0;
  private live = 0;
  private lastFullSweep = -Infinity;
  private names?: Iterator<Map<string, number>>;
  private keys?: Iterator<[string, number]>;
  private keysOf?: Map<string, number>;
  private readonly timer: NodeJS.Timeout;

  constructor(options: OtpMemoryThrottlerStorageOptions) {
    this.maxKeys = options.maxKeys;
    this.now = options.now ?? Date.now;
    // Started here, at boot, so the timer never carries a request's async context.
    this.timer = setInterval(() => this.sweepSome(Math.max(INITIAL_SLOTS, Math.ceil(this.live / 30)), this.now()), options.sweepIntervalMs ?? 1000);
    this.timer.unref();
  }

  /** Counters held now. */
  get size(): number {
    return this.live;
  }

  increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<OtpThrottlerRecord> {
    try {
      return Promise.resolve(this.countAll([{ key, ttl, limit, blockDuration, throttlerName }])[0]);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  incrementInOrder(hits: readonly OtpThrottlerHit[]): Promise<OtpThrottlerRecord[]> {
    try {
      return Promise.resolve(this.countAll(hits));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private countAll(hits: readonly OtpThrottlerHit[]): OtpThrottlerRecord[] {
    const now = this.now();
    this.makeRoom(hits, now);
    const records: OtpThrottlerRecord[] = [];
    for (const h of hits) {
      const record = this.hit(h, now);
      records.push(record);
      if (record.isBlocked) break;
    }
    return records;
  }

  /** Throws, before anything is counted, when the new counters `hits` needs do not fit. */
  private makeRoom(hits: readonly OtpThrottlerHit[], now: number): void {
    if (this.live + this.missing(hits) <= this.maxKeys) return;
    if (now - this.lastFullSweep >= FULL_SWEEP_EVERY_MS) {
      this.lastFullSweep = now;
      for (const byKey of this.counters.values()) for (const [key, slot] of byKey) this.expire(byKey, key, slot, now);
    }
    if (this.live + this.missing(hits) > this.maxKeys) throw new OtpRateLimitStoreFullError(this.live, this.maxKeys);
  }

  private missing(hits: readonly OtpThrottlerHit[]): number {
    let missing = 0;
    for (let i = 0; i < hits.length; i++) {
      const { key, throttlerName } = hits[i];
      if (this.counters.get(throttlerName)?.has(key)) continue;
      let repeated = false;
      for (let j = 0; j < i && !repeated; j++) repeated = hits[j].key === key && hits[j].throttlerName === throttlerName;
      if (!repeated) missing++;
    }
    return missing;
  }

  private hit({ key, ttl, limit, blockDuration, throttlerName }: OtpThrottlerHit, now: number): OtpThrottlerRecord {
    let byKey = this.counters.get(throttlerName);
    if (!byKey) this.counters.set(throttlerName, (byKey = new Map()));
    let slot = byKey.get(key);
    if (slot === undefined) {
      slot = this.allocate();
      byKey.set(key, slot);
    }
    const s = this.slab;
    const at = slot * FIELDS;
    if (s[at + 1] <= now) {
      // The window is over (in Redis: the hits key expired): a new one starts with this hit.
      s[at] = 0;
      s[at + 1] = now + ttl;
    }
    const totalHits = ++s[at];
    let isBlocked = s[at + 2] > now;
    let blockLeft = isBlocked ? s[at + 2] - now : 0;
    if (!isBlocked && totalHits > limit) {
      s[at + 2] = now + blockDuration;
      isBlocked = true;
      blockLeft = blockDuration;
    }
    return { totalHits, timeToExpire: Math.ceil((s[at + 1] - now) / 1000), isBlocked, timeToBlockExpire: Math.ceil(blockLeft / 1000) };
  }

  private allocate(): number {
    this.live++;
    const reused = this.free.pop();
    if (reused !== undefined) {
      this.slab.fill(0, reused * FIELDS, reused * FIELDS + FIELDS);
      return reused;
    }
    if (this.allocated * FIELDS === this.slab.length) {
      const grown = new Float64Array(Math.min(this.slab.length * 2, Math.max(this.maxKeys, INITIAL_SLOTS) * FIELDS));
      grown.set(this.slab);
      this.slab = grown;
    }
    return this.allocated++;
  }

  /** Removes the counter if both its window and its block are over. */
  private expire(byKey: Map<string, number>, key: string, slot: number, now: number): void {
    const at = slot * FIELDS;
    if (this.slab[at + 1] > now || this.slab[at + 2] > now) return;
    byKey.delete(key);
    this.free.push(slot);
    this.live--;
  }

  /** Visits up to `budget` counters from where the last sweep stopped; a cycle ends at the last key. */
  private sweepSome(budget: number, now: number): void {
    for (let visited = 0; visited < budget;) {
      if (this.keys && this.keysOf) {
        const entry = this.keys.next();
        if (!entry.done) {
          visited++;
          this.expire(this.keysOf, entry.value[0], entry.value[1], now);
          continue;
        }
        this.keys = undefined;
      }
      const next = (this.names ??= this.counters.values()).next();
      if (next.done) {
        this.names = undefined;
        return;
      }
      this.keysOf = next.value;
      this.keys = next.value.entries();
    }
  }
}

/** Emits `rate_limit.store_full` when `err` is the in-memory store refusing a new counter (the caller still answers 503). */
export function reportStoreFull(events: OtpEventBus, err: unknown, ip: string | undefined, scope: string): void {
  if (!(err instanceof OtpRateLimitStoreFullError)) return;
  events.emit({ name: 'rate_limit.store_full', outcome: 'failure', ip, detail: { scope, keys: err.keys, maxKeys: err.maxKeys } });
}
