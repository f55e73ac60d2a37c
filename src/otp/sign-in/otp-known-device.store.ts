import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

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
 * Queries on the devices an address signed in from (`otp_sign_in_devices`). Rows
 * hold the blind index and a keyed device digest only.
 */
@Injectable()
export class OtpKnownDeviceStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

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
    const [row] = await this.db.query(
      `WITH prior AS (
         SELECT count(*)::int AS remembered, count(*) FILTER (WHERE device_digest = $2) > 0 AS known
         FROM otp_sign_in_devices
         WHERE recipient_index = $1 AND last_seen_at > now() - make_interval(secs => $3)
       ), gate AS (
         INSERT INTO otp_mail_notice_gates AS g (recipient_index, kind, last_queued_at)
         SELECT $1, 'new-device-notice', now() FROM prior WHERE NOT known AND remembered > 0
         ON CONFLICT (recipient_index, kind) DO UPDATE SET last_queued_at = now()
         WHERE g.last_queued_at <= now() - make_interval(secs => $4)
         RETURNING 1
       ), queued AS (
         INSERT INTO otp_mail_outbox (id, challenge_id, kind, purpose, recipient_index, payload_ciphertext, deadline_at)
         SELECT $5, NULL, 'new-device-notice', 'sign-in', $1, $6, now() + make_interval(secs => $7) FROM gate
         RETURNING 1
       ), kept AS (
         INSERT INTO otp_sign_in_devices AS d (recipient_index, device_digest, last_seen_at)
         SELECT $1, $2, now() FROM prior WHERE known OR remembered = 0 OR EXISTS (SELECT 1 FROM queued)
         ON CONFLICT (recipient_index, device_digest) DO UPDATE SET last_seen_at = now()
         RETURNING 1
       )
       SELECT p.known, p.remembered, EXISTS (SELECT 1 FROM queued) AS queued FROM prior p`,
      [r.recipientIndex, r.deviceDigest, r.rememberSeconds, r.intervalSeconds, r.notice.id, r.notice.payloadCiphertext,
        r.notice.deadlineSeconds],
    );
    return { known: row.known === true, remembered: Number(row.remembered), queued: row.queued === true };
  }

  /** Retention: forgets devices unseen for `afterSeconds`. Returns the row count. */
  async purgeUnseenFor(afterSeconds: number): Promise<number> {
    const [, count] = await this.db.query(
      `DELETE FROM otp_sign_in_devices WHERE last_seen_at <= now() - make_interval(secs => $1)`,
      [afterSeconds],
    );
    return Number(count ?? 0);
  }
}
