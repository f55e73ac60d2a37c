import { Injectable } from '@nestjs/common';
import { OtpSql } from '../persistence/otp-sql';
import { PURGE_UNSEEN, RECORD_SIGN_IN } from './otp-known-device.sql';

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

/**
 * Owns `otp_sign_in_devices`, the devices an address signed in from (`otp-known-device.sql.ts`). Rows
 * hold the blind index and a keyed device digest only.
 */
@Injectable()
export class OtpKnownDeviceStore {
  constructor(private readonly sql: OtpSql) {}

  /**
   * One statement: looks the device up among the address's remembered ones; for a new
   * device of an address that has some, passes the per-address notice gate
   * (`otp_mail_notice_gates`, kind `new-device-notice`) and queues the notice in the
   * outbox; then remembers the device when it was known, when the address had none (its
   * first sign-in: nothing to compare with, nothing mailed), or when its notice was
   * queued. A device held back by the gate stays unknown, so it is announced later.
   * Concurrent sign-ins of one address meet on the gate row: one notice at most.
   */
  async recordSignIn(r: SignInRecord): Promise<SignInRecorded> {
    const [row] = await this.sql.rows('sign_in_record', RECORD_SIGN_IN, [r.recipientIndex, r.deviceDigest, r.rememberSeconds,
      r.intervalSeconds, r.notice.id, r.notice.payloadCiphertext, r.notice.deadlineSeconds]);
    return { known: row.known === true, remembered: Number(row.remembered), queued: row.queued === true };
  }

  /** Retention: forgets devices unseen for `afterSeconds`. Returns the row count. */
  async purgeUnseenFor(afterSeconds: number): Promise<number> {
    return this.sql.count('devices_purge', PURGE_UNSEEN, [afterSeconds], 'unprepared');
  }
}
