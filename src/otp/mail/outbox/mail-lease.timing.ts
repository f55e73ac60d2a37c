import type { MailTransportSlots } from './mail-transport.slots';
import type { OutboxRow } from './otp-mail-outbox.store';

/** A record is not tried this close to the end of its row's lease (clocks, statement time). */
export const LEASE_MARGIN_MS = 5_000;
/** Less lease than this left when a connection is free: the row is released rather than sent. */
const MIN_SEND_MS = 10_000;
/** A code row that waited longer than this for a connection has its challenge looked up again. */
const RECHECK_AFTER_MS = 1_000;

export type StaleReason = 'deadline' | 'lease_short' | 'challenge_ended';

export class OtpMailTimeoutError extends Error {
  override name = 'OtpMailTimeoutError';
}

/** Half the lease: a send that takes longer is waited for, but never retried, until the lease ends. */
export function sendTimeoutMs(leaseSeconds: number): number {
  return (leaseSeconds * 1000) / 2;
}

/** `work`, or an `OtpMailTimeoutError` after `ms`. */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new OtpMailTimeoutError('mail port did not answer in time')), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Why a claimed row must not go to the relay now that a connection is free, as far as the
 * clock tells: its deadline passed, or too little of its lease is left for a send.
 * Undefined when it may go.
 */
function staleNow(row: OutboxRow, leaseEndsAt: number): StaleReason | undefined {
  const now = Date.now();
  if (row.deadlineAt.getTime() <= now) return 'deadline';
  if (leaseEndsAt - now < MIN_SEND_MS) return 'lease_short';
  return undefined;
}

/** Whether a code row waited long enough since its challenge was last checked to have it looked up again. */
function needsRecheck(row: OutboxRow, checkedAt: number): boolean {
  return row.kind === 'code' && row.challengeId !== null && Date.now() - checkedAt > RECHECK_AFTER_MS;
}

/** Whether the row's challenge ended; false when the database is away (the claim-time check stands). */
async function endedOrUnknown(row: OutboxRow, challengeEnded: (challengeId: string) => Promise<boolean>): Promise<boolean> {
  try {
    return row.challengeId !== null && (await challengeEnded(row.challengeId));
  } catch {
    return false;
  }
}

/**
 * Waits for one of the port's connections and checks the row again (deadline, lease and, after
 * a wait, its challenge). Resolves with the slot taken, or with why the row must not go (no slot
 * held then). The challenge is looked up without holding the connection, which serves the next
 * message meanwhile: held during the lookup, a database round trip per message left each
 * connection idle as long as a send under issue load, and the codes queued up behind it.
 */
export async function handOver(
  slots: MailTransportSlots,
  limit: number | undefined,
  row: OutboxRow,
  lease: { claimedAt: number; leaseEndsAt: number },
  challengeEnded: (challengeId: string) => Promise<boolean>,
): Promise<StaleReason | undefined> {
  await slots.take(limit);
  let stale = staleNow(row, lease.leaseEndsAt);
  if (!stale && needsRecheck(row, lease.claimedAt)) {
    slots.free();
    if (await endedOrUnknown(row, challengeEnded)) return 'challenge_ended';
    await slots.takeFirst(limit);
    stale = staleNow(row, lease.leaseEndsAt);
  }
  if (stale) slots.free();
  return stale;
}
