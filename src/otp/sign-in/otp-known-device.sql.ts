import { noticeGatePass } from '../mail/outbox/otp-mail-outbox.sql';
import { outboxInsert } from '../persistence/otp-shared-inserts.sql';

/**
 * Statements on `otp_sign_in_devices`, owned by `OtpKnownDeviceStore`. A new device's
 * notice goes through the outbox's gate and into the outbox by their owner's fragments.
 */

/**
 * `$1` address, `$2` device digest, `$3` remember seconds, `$4` notice interval, `$5` outbox
 * row id, `$6` sealed payload, `$7` notice deadline seconds.
 */
export const RECORD_SIGN_IN = `WITH prior AS (
     SELECT count(*)::int AS remembered, count(*) FILTER (WHERE device_digest = $2) > 0 AS known
     FROM otp_sign_in_devices
     WHERE recipient_index = $1 AND last_seen_at > now() - make_interval(secs => $3)
   ), gate AS (
     ${noticeGatePass({ recipientIndex: '$1', kind: `'new-device-notice'`, intervalSeconds: '$4', from: 'prior', where: 'NOT known AND remembered > 0' })}
   ), queued AS (
     ${outboxInsert({ id: '$5', challengeId: 'NULL', kind: `'new-device-notice'`, purpose: `'sign-in'`, recipientIndex: '$1',
    payloadCiphertext: '$6', deadlineAt: 'now() + make_interval(secs => $7)' }, 'gate')}
     RETURNING 1
   ), kept AS (
     INSERT INTO otp_sign_in_devices AS d (recipient_index, device_digest, last_seen_at)
     SELECT $1, $2, now() FROM prior WHERE known OR remembered = 0 OR EXISTS (SELECT 1 FROM queued)
     ON CONFLICT (recipient_index, device_digest) DO UPDATE SET last_seen_at = now()
     RETURNING 1
   )
   SELECT p.known, p.remembered, EXISTS (SELECT 1 FROM queued) AS queued FROM prior p`;

export const PURGE_UNSEEN = `DELETE FROM otp_sign_in_devices WHERE last_seen_at <= now() - make_interval(secs => $1)`;
