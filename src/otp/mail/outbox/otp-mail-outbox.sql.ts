import { outboxInsert } from '../../persistence/otp-shared-inserts.sql';

/**
 * Statements on `otp_mail_outbox` and `otp_mail_notice_gates`, both owned by
 * `OtpMailOutboxStore`. Other stores write outbox rows in their own statements
 * (a code's mail with its challenge, a new-device notice with its device) by
 * composing `outboxInsert` (persistence/otp-shared-inserts.sql.ts, below every
 * store that composes it) and `noticeGatePass`, never by writing their own SQL.
 */

/**
 * Passes the per-address notice gate of `kind` (one row per address and kind) unless a
 * notice of that kind was queued within `intervalSeconds`; returns one row per address that
 * passed (its `recipient_index`). `where` limits the addresses that try (a condition on
 * `from`'s columns); several addresses go in the order of their index, so statements that
 * pass gates of the same addresses lock them in one order.
 */
export function noticeGatePass(g: { recipientIndex: string; kind: string; intervalSeconds: string; from?: string; where?: string }): string {
  const source = g.from ? `SELECT ${g.recipientIndex}, ${g.kind}, now() FROM ${g.from}${g.where ? ` WHERE ${g.where}` : ''} ORDER BY 1`
    : `VALUES (${g.recipientIndex}, ${g.kind}, now())`;
  return `INSERT INTO otp_mail_notice_gates AS g (recipient_index, kind, last_queued_at)
         ${source}
         ON CONFLICT (recipient_index, kind) DO UPDATE SET last_queued_at = now()
         WHERE g.last_queued_at <= now() - make_interval(secs => ${g.intervalSeconds})
         RETURNING g.recipient_index`;
}

/** The columns a dispatcher reads of a claimed or abandoned row. */
const HANDED_OVER = `o.id, o.challenge_id, o.kind, o.purpose, o.recipient_index`;
const SETTLED = `payload_ciphertext = NULL, finished_at = now(), claimed_until = NULL`;

/** A row `o` that is due: never claimed, or its lease ended. */
const UNCLAIMED = `(o.claimed_until IS NULL OR o.claimed_until <= now())`;

/** Builds the claim statement; `moot` tells, for outbox row `o`, whether its challenge ended. */
export function claimDueSql(moot: string): string {
  return `WITH candidates AS (
     SELECT o.id, coalesce(o.kind = 'code' AND ${moot}, false) AS moot, (o.deadline_at <= now()) AS late
     FROM otp_mail_outbox o
     WHERE o.status = 'pending' AND ${UNCLAIMED}
       AND (o.next_attempt_at <= now() OR o.deadline_at <= now() OR (o.kind = 'code' AND ${moot}))
     ORDER BY o.next_attempt_at
     LIMIT $2
     FOR UPDATE OF o SKIP LOCKED
   ), abandoned AS (
     UPDATE otp_mail_outbox o SET status = 'abandoned', ${SETTLED},
       last_error = CASE WHEN k.moot THEN 'challenge_ended' ELSE 'deadline' END
     FROM candidates k WHERE o.id = k.id AND (k.moot OR k.late)
     RETURNING ${HANDED_OVER}, NULL::text AS payload_ciphertext,
       o.attempts, o.deadline_at, 'abandoned'::text AS action, o.last_error
   ), claimed AS (
     UPDATE otp_mail_outbox o SET claimed_until = now() + make_interval(secs => $3), claimed_by = $1,
       attempts = o.attempts + 1
     FROM candidates k WHERE o.id = k.id AND NOT k.moot AND NOT k.late
     RETURNING ${HANDED_OVER}, o.payload_ciphertext,
       o.attempts, o.deadline_at, 'claimed'::text AS action, o.last_error
   )
   SELECT * FROM abandoned UNION ALL SELECT * FROM claimed`;
}

/**
 * `IS TRUE` keeps the partial index of pending rows (`status = 'pending'`) out of the plan:
 * matched by the plain condition, it was ANDed with the primary key in a bitmap scan that
 * read the whole backlog on every record (without statistics, and in the generic plan).
 */
export const MARK_DELIVERED = `UPDATE otp_mail_outbox o SET status = 'delivered', ${SETTLED},
     server_message_id = d.message_id, server_response = d.response, last_error = NULL
   FROM unnest($1::uuid[], $2::text[], $3::text[]) AS d (id, message_id, response)
   WHERE o.id = ANY($1::uuid[]) AND o.id = d.id AND (o.status = 'pending') IS TRUE RETURNING o.id`;

/** `$3` ms from now, past the row's deadline. */
const RETRY_TOO_LATE = `now() + make_interval(secs => $3 / 1000.0) >= deadline_at`;

export const SCHEDULE_RETRY = `UPDATE otp_mail_outbox SET claimed_until = NULL, last_error = $2,
     next_attempt_at = now() + make_interval(secs => $3 / 1000.0),
     status = CASE WHEN ${RETRY_TOO_LATE} THEN 'abandoned' ELSE 'pending' END,
     payload_ciphertext = CASE WHEN ${RETRY_TOO_LATE} THEN NULL ELSE payload_ciphertext END,
     finished_at = CASE WHEN ${RETRY_TOO_LATE} THEN now() END
   WHERE id = $1 AND status = 'pending' RETURNING status`;

export const ABANDON_PENDING_OLDER_THAN = `UPDATE otp_mail_outbox o SET status = 'abandoned', ${SETTLED}, last_error = 'retention'
   WHERE o.status = 'pending' AND o.created_at < now() - make_interval(secs => $1) AND ${UNCLAIMED}`;

export const MARK_ABANDONED = `UPDATE otp_mail_outbox SET status = 'abandoned', ${SETTLED}, last_error = $2
   WHERE id = $1 AND status = 'pending'`;

/** Queues a budget notice behind its gate: `$1` id, `$2` challenge, `$3` purpose, `$4` address, `$5` payload, `$6` deadline, `$7` interval. */
export const QUEUE_BUDGET_NOTICE = `WITH gate AS (
     ${noticeGatePass({ recipientIndex: '$4', kind: `'budget-notice'`, intervalSeconds: '$7' })}
   )
   ${outboxInsert({ id: '$1', challengeId: '$2', kind: `'budget-notice'`, purpose: '$3', recipientIndex: '$4',
    payloadCiphertext: '$5', deadlineAt: 'now() + make_interval(secs => $6)' }, 'gate')}`;

/** The operator console's delivery view: status columns only, never the address, its index or the payload. */
export const RECENT_STATUSES = `SELECT id, kind, purpose, status, attempts, last_error, created_at, finished_at
  FROM otp_mail_outbox ORDER BY created_at DESC, id LIMIT $1`;
