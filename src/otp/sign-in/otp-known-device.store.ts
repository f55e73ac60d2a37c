import { Injectable } from '@nestjs/common';
import { OtpSql } from '../persistence/otp-sql';
import { PURGE_UNSEEN, RECORD_SIGN_INS } from './otp-known-device.sql';

export interface SignInRecord {
  recipientIndex: string;
  deviceDigest: string;
  /** The notice to queue if this sign-in calls for one: outbox row id and sealed payload. */
  notice: { id: string; payloadCiphertext: string; deadlineSeconds: number };
  rememberSeconds: number;
  intervalSeconds: number;
}

export interface SignInRecorded {
  /** The device was among the address's remembered ones. */
  known: boolean;
  /** How many devices the address had remembered before this sign-in. */
  remembered: number;
  /** A notice went into the outbox. */
  queued: boolean;
}

/** Sign-ins one statement records at most. */
export const SIGN_IN_BATCH_MAX = 64;
/** Statements in flight at once per process; sign-ins arriving meanwhile wait and go together in the next. */
export const SIGN_IN_STATEMENTS_IN_FLIGHT = 2;

interface Waiting {
  record: SignInRecord;
  resolve: (out: SignInRecorded) => void;
  reject: (err: unknown) => void;
}

/**
 * Owns `otp_sign_in_devices`, the devices an address signed in from (`otp-known-device.sql.ts`). Rows
 * hold the blind index and a keyed device digest only.
 *
 * Sign-ins are recorded by group commit: a sign-in that finds a statement slot free goes at once (a
 * batch of one: no added wait); while `SIGN_IN_STATEMENTS_IN_FLIGHT` statements are out, the
 * sign-ins arriving wait and the next free slot records them together, up to `SIGN_IN_BATCH_MAX`,
 * in one statement with the same outcome per sign-in as one statement each. A batch holds each
 * address at most once (a second sign-in of the address waits for the next batch, so it sees the
 * first one's device and gate, as it would one after the other), and only sign-ins with the same
 * settings. A failed statement fails the sign-ins of its batch.
 */
@Injectable()
export class OtpKnownDeviceStore {
  private readonly waiting: Waiting[] = [];
  private inFlight = 0;

  constructor(private readonly sql: OtpSql) {}

  /**
   * Looks the device up among the address's remembered ones; for a new device of an address
   * that has some, passes the per-address notice gate (`otp_mail_notice_gates`, kind
   * `new-device-notice`) and queues the notice in the outbox; then remembers the device when it
   * was known, when the address had none (its first sign-in: nothing to compare with, nothing
   * mailed), or when its notice was queued. A device held back by the gate stays unknown, so it
   * is announced later. Concurrent sign-ins of one address meet on the gate row: one notice at most.
   */
  recordSignIn(r: SignInRecord): Promise<SignInRecorded> {
    return new Promise<SignInRecorded>((resolve, reject) => {
      this.waiting.push({ record: r, resolve, reject });
      this.next();
    });
  }

  /** Sends the next batch while a statement slot is free. */
  private next(): void {
    while (this.inFlight < SIGN_IN_STATEMENTS_IN_FLIGHT && this.waiting.length > 0) {
      const batch = this.takeBatch();
      this.inFlight++;
      void this.write(batch).finally(() => {
        this.inFlight--;
        this.next();
      });
    }
  }

  /** The oldest waiting sign-in and those after it with its settings, each address once, in arrival order. */
  private takeBatch(): Waiting[] {
    const first = this.waiting[0].record;
    const addresses = new Set<string>();
    const batch: Waiting[] = [];
    for (let i = 0; i < this.waiting.length && batch.length < SIGN_IN_BATCH_MAX;) {
      const w = this.waiting[i];
      const r = w.record;
      if (addresses.has(r.recipientIndex) || r.rememberSeconds !== first.rememberSeconds
        || r.intervalSeconds !== first.intervalSeconds || r.notice.deadlineSeconds !== first.notice.deadlineSeconds) {
        i++;
        continue;
      }
      addresses.add(r.recipientIndex);
      batch.push(w);
      this.waiting.splice(i, 1);
    }
    return batch;
  }

  private async write(batch: Waiting[]): Promise<void> {
    const records = batch.map((w) => w.record);
    const [first] = records;
    try {
      const rows = await this.sql.rows<{ ord: string; known: boolean; remembered: number; queued: boolean }>('sign_in_record', RECORD_SIGN_INS, [
        records.map((r) => r.recipientIndex), records.map((r) => r.deviceDigest), first.rememberSeconds, first.intervalSeconds,
        records.map((r) => r.notice.id), records.map((r) => r.notice.payloadCiphertext), first.notice.deadlineSeconds,
      ]);
      const byOrd = new Map(rows.map((row) => [Number(row.ord), row]));
      batch.forEach((w, i) => {
        const row = byOrd.get(i + 1);
        if (!row) return w.reject(new Error('sign-in record: no row for a sign-in of the batch'));
        w.resolve({ known: row.known === true, remembered: Number(row.remembered), queued: row.queued === true });
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }

  /** Retention: forgets devices unseen for `afterSeconds`. Returns the row count. */
  async purgeUnseenFor(afterSeconds: number): Promise<number> {
    return this.sql.count('devices_purge', PURGE_UNSEEN, [afterSeconds], 'unprepared');
  }
}
