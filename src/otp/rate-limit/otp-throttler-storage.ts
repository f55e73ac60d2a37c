import type { ThrottlerStorage } from '@nestjs/throttler';

/** What `ThrottlerStorage.increment` answers for one counter. */
export type OtpThrottlerRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** One counter to count: the arguments of `ThrottlerStorage.increment`, as one object (milliseconds). */
export interface OtpThrottlerHit {
  key: string;
  ttl: number;
  limit: number;
  blockDuration: number;
  throttlerName: string;
}

/**
 * A throttler storage that counts an ordered list of counters in one call (one round trip to
 * Redis, one synchronous pass in memory): each counter exactly as `increment` would count it,
 * stopping after the first one that refuses, so a request refused by one counter is not
 * counted by the ones after it. A host's `rateLimits.storage` may implement it; one that
 * implements only `increment` is counted one key at a time, in the same order.
 */
export interface OtpOrderedThrottlerStorage extends ThrottlerStorage {
  /** The records of the counters counted, in order; when one refused, it is the last. */
  incrementInOrder(hits: readonly OtpThrottlerHit[]): Promise<OtpThrottlerRecord[]>;
}

function isOrdered(storage: ThrottlerStorage): storage is OtpOrderedThrottlerStorage {
  return typeof (storage as Partial<OtpOrderedThrottlerStorage>).incrementInOrder === 'function';
}

/** Counts `hits` in order on `storage`, in one call when it can, stopping after the first refusal. */
export async function countInOrder(storage: ThrottlerStorage, hits: readonly OtpThrottlerHit[]): Promise<OtpThrottlerRecord[]> {
  if (isOrdered(storage)) return answered(hits, await storage.incrementInOrder(hits));
  const records: OtpThrottlerRecord[] = [];
  for (const h of hits) {
    const record = await storage.increment(h.key, h.ttl, h.limit, h.blockDuration, h.throttlerName);
    records.push(record);
    if (record.isBlocked) break;
  }
  return records;
}

/**
 * An ordered storage's answer, checked: one record per counted hit, in order, stopping only at
 * a refusal. Anything else (fewer records and none refused, more records than hits) would skip
 * throttlers, so it is a store error: the caller answers 503 (fail closed).
 */
function answered(hits: readonly OtpThrottlerHit[], records: OtpThrottlerRecord[]): OtpThrottlerRecord[] {
  const complete = Array.isArray(records) && records.length <= hits.length && records.length > 0
    && (records.length === hits.length || records[records.length - 1]?.isBlocked === true);
  if (!complete) throw new Error(`the rate-limit storage answered ${Array.isArray(records) ? records.length : 'no'} record(s) for ${hits.length} counter(s)`);
  return records;
}
