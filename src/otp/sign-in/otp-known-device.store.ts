import { Injectable } from '@nestjs/common';
import { GroupCommit } from '../persistence/group-commit';
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
export const SIGN_IN_STATEMENTS_IN_FLIGHT = 1;

/**
 * Owns `otp_sign_in_devices`, the devices an address signed in from (`otp-known-device.sql.ts`). Rows
 * hold the blind index and a keyed device digest only.
 *
 * Sign-ins are recorded by group commit (`GroupCommit`): one that finds one of
 * `SIGN_IN_STATEMENTS_IN_FLIGHT` statement slots free goes at once; those arriving while all are
 * out go together, up to `SIGN_IN_BATCH_MAX`, in one statement with the outcome each has alone. A
 * batch holds each address at most once (two sign-ins of one address are two statements, as two
 * requests were before: they meet on the gate row), and only sign-ins of the same settings.
 */
@Injectable()
export class OtpKnownDeviceStore {
  private readonly signIns = new GroupCommit<SignInRecord, SignInRecorded>({
    slots: SIGN_IN_STATEMENTS_IN_FLIGHT,
    maxBatch: SIGN_IN_BATCH_MAX,
    keyOf: (r) => r.recipientIndex,
    settingsOf: (r) => `${r.rememberSeconds}/${r.intervalSeconds}/${r.notice.deadlineSeconds}`,
    write: (batch) => this.write(batch),
  });

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
    return this.signIns.run(r);
  }

  private async write(records: SignInRecord[]): Promise<SignInRecorded[]> {
    const [first] = records;
    const rows = await this.sql.rows<{ ord: string; known: boolean; remembered: number; queued: boolean }>('sign_in_record', RECORD_SIGN_INS, [
      records.map((r) => r.recipientIndex), records.map((r) => r.deviceDigest), first.rememberSeconds, first.intervalSeconds,
      records.map((r) => r.notice.id), records.map((r) => r.notice.payloadCiphertext), first.notice.deadlineSeconds,
    ]);
    // One row per sign-in, in their order (`ORDER BY ord`).
    return rows.map((row) => ({ known: row.known === true, remembered: Number(row.remembered), queued: row.queued === true }));
  }

  /** Retention: forgets devices unseen for `afterSeconds`. Returns the row count. */
  async purgeUnseenFor(afterSeconds: number): Promise<number> {
    return this.sql.count('devices_purge', PURGE_UNSEEN, [afterSeconds], 'unprepared');
  }
}
