import { noticeGatePass } from '../mail/outbox/otp-mail-outbox.sql';
import { outboxInsert } from '../persistence/otp-shared-inserts.sql';

/**
 * Statements on `otp_sign_in_devices`, owned by `OtpKnownDeviceStore`. A new device's
 * notice goes through the outbox's gate and into the outbox by their owner's fragments.
 */

/**
 * Records a batch of sign-ins, each of another address: `$1` addresses, `$2` device digests, `$5`
 * outbox row ids and `$6` sealed payloads (arrays, one element per sign-in), `$3` remember seconds,
 * `$4` notice interval, `$7` notice deadline seconds. Per sign-in, as one statement each would:
 * looks the device up among the address's remembered ones; for a new device of an address that has
 * some, passes the notice gate and queues the notice; remembers the device when it was known, when
 * the address had none, or when its notice was queued. Rows are locked in the order of the address
 * index (gates, then devices); a deadlock left (with the retention purge, which deletes in heap order) fails
 * the batch, and `GroupCommit` writes its sign-ins again one by one.
 */
export const RECORD_SIGN_INS = `WITH input AS (
     SELECT * FROM unnest($1::text[], $2::text[], $5::uuid[], $6::text[])
       WITH ORDINALITY AS i(recipient_index, device_digest, notice_id, payload, ord)
   ), prior AS (
     SELECT i.*, coalesce(d.remembered, 0) AS remembered, coalesce(d.known, false) AS known
     FROM input i LEFT JOIN LATERAL (
       SELECT count(*)::int AS remembered, count(*) FILTER (WHERE s.device_digest = i.device_digest) > 0 AS known
       FROM otp_sign_in_devices s
       WHERE s.recipient_index = i.recipient_index AND s.last_seen_at > now() - make_interval(secs => $3)
     ) d ON true
   ), gate AS (
     ${noticeGatePass({ recipientIndex: 'recipient_index', kind: `'new-device-notice'`, intervalSeconds: '$4', from: 'prior', where: 'NOT known AND remembered > 0' })}
   ), queued AS (
     ${outboxInsert({ id: 'p.notice_id', challengeId: 'NULL', kind: `'new-device-notice'`, purpose: `'sign-in'`, recipientIndex: 'p.recipient_index',
    payloadCiphertext: 'p.payload', deadlineAt: 'now() + make_interval(secs => $7)' }, 'gate JOIN prior p ON p.recipient_index = gate.recipient_index')}
     RETURNING recipient_index
   ), kept AS (
     INSERT INTO otp_sign_in_devices AS d (recipient_index, device_digest, last_seen_at)
     SELECT p.recipient_index, p.device_digest, now() FROM prior p
     WHERE p.known OR p.remembered = 0 OR p.recipient_index IN (SELECT recipient_index FROM queued)
     ORDER BY p.recipient_index
     ON CONFLICT (recipient_index, device_digest) DO UPDATE SET last_seen_at = now()
     RETURNING 1
   )
   SELECT p.ord, p.known, p.remembered, p.recipient_index IN (SELECT recipient_index FROM queued) AS queued
   FROM prior p ORDER BY p.ord`;

export const PURGE_UNSEEN = `DELETE FROM otp_sign_in_devices WHERE last_seen_at <= now() - make_interval(secs => $1)`;
