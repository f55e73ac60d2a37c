import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** A row handed to a dispatcher: either claimed for sending or abandoned on the way. */
export interface OutboxRow {
  id: string;
  /** NULL for notices that concern no challenge (new-device notices). */
  challengeId: string | null;
  kind: 'code' | 'budget-notice' | 'new-device-notice';
  purpose: string;
  recipientIndex: string;
  /** Present on claimed rows only. */
  payloadCiphertext: string | null;
  attempts: number;
  deadlineAt: Date;
  action: 'claimed' | 'abandoned';
  lastError: string | null;
}

/** What the relay said when it accepted the message of outbox row `id`. */
export interface OutboxDelivery {
  id: string;
  messageId: string | null;
  response: string | null;
}

export interface NewNoticeRow {
  id: string;
  challengeId: string;
  purpose: string;
  recipientIndex: string;
  payloadCiphertext: string;
  deadlineSeconds: number;
}

/** The state of one outbox row for operators: never the address (nor its index) and never the payload. */
export interface OutboxStatusRow {
  id: string;
  kind: OutboxRow['kind'];
  purpose: string;
  status: 'pending' | 'delivered' | 'abandoned';
  attempts: number;
  /** The error class of the last failed attempt (`mail-error.classifier`), or why the row was abandoned. */
  lastError: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

function toRow(r: Record<string, unknown>): OutboxRow {
  return {
    id: r.id as string,
    challengeId: (r.challenge_id as string | null) ?? null,
    kind: r.kind as OutboxRow['kind'],
    purpose: r.purpose as string,
    recipientIndex: r.recipient_index as string,
    payloadCiphertext: (r.payload_ciphertext as string | null) ?? null,
    attempts: Number(r.attempts),
    deadlineAt: new Date(r.deadline_at as string),
    action: r.action as OutboxRow['action'],
    lastError: (r.last_error as string | null) ?? null,
  };
}

/**
 * Queries on the mail outbox. Each method is one statement. Rows are written
 * by `OtpChallengeStore` in the statement that creates their code (and by
 * `OtpKnownDeviceStore` for new-device notices); here they are claimed, settled
 * and, for budget notices, queued behind a per-address gate.
 */
@Injectable()
export class OtpMailOutboxStore {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /**
   * Claims up to `limit` due rows for `workerId` until `now() + leaseSeconds`, and in
   * the same statement abandons (and wipes) every unclaimed row whose challenge was
   * consumed or superseded, or whose deadline passed, due or not. `SKIP LOCKED`
   * keeps concurrent dispatchers off each other's rows; the lease keeps them off
   * rows being sent, and hands the rows of a dispatcher that died to the others.
   *
   * The challenge is looked up by primary key, only for rows not due yet and for the
   * rows claimed: a join made the planner visit the challenge of every pending row
   * before sorting when the table had no statistics yet (a fresh deployment, or a
   * backlog the last ANALYZE did not see), and an EXISTS became a hashed scan of the
   * whole challenge table once it had them.
   */
  async claimDue(workerId: string, limit: number, leaseSeconds: number): Promise<OutboxRow[]> {
    const rows: Record<string, unknown>[] = await this.db.query(
      `WITH candidates AS (
         SELECT o.id,
           coalesce(o.kind = 'code' AND (SELECT c.consumed_at IS NOT NULL OR c.superseded_at IS NOT NULL
             FROM otp_challenges c WHERE c.id = o.challenge_id), false) AS moot,
           (o.deadline_at <= now()) AS late
         FROM otp_mail_outbox o
         WHERE o.status = 'pending' AND (o.claimed_until IS NULL OR o.claimed_until <= now())
           AND (o.next_attempt_at <= now() OR o.deadline_at <= now()
             OR (o.kind = 'code' AND (SELECT c.consumed_at IS NOT NULL OR c.superseded_at IS NOT NULL
               FROM otp_challenges c WHERE c.id = o.challenge_id)))
         ORDER BY o.next_attempt_at
         LIMIT $2
         FOR UPDATE OF o SKIP LOCKED
       ), abandoned AS (
         UPDATE otp_mail_outbox o SET status = 'abandoned', payload_ciphertext = NULL, finished_at = now(),
           claimed_until = NULL, last_error = CASE WHEN k.moot THEN 'challenge_ended' ELSE 'deadline' END
         FROM candidates k WHERE o.id = k.id AND (k.moot OR k.late)
         RETURNING o.id, o.challenge_id, o.kind, o.purpose, o.recipient_index, NULL::text AS payload_ciphertext,
           o.attempts, o.deadline_at, 'abandoned'::text AS action, o.last_error
       ), claimed AS (
         UPDATE otp_mail_outbox o SET claimed_until = now() + make_interval(secs => $3), claimed_by = $1,
           attempts = o.attempts + 1
         FROM candidates k WHERE o.id = k.id AND NOT k.moot AND NOT k.late
         RETURNING o.id, o.challenge_id, o.kind, o.purpose, o.recipient_index, o.payload_ciphertext,
           o.attempts, o.deadline_at, 'claimed'::text AS action, o.last_error
       )
       SELECT * FROM abandoned UNION ALL SELECT * FROM claimed`,
      [workerId, limit, leaseSeconds],
    );
    return rows.map(toRow);
  }

  /**
   * Records the relay's acceptance of several messages and wipes their payloads, in one
   * statement. Returns the ids that were still pending (and so are now delivered). The
   * `= ANY` keeps the rows reached by primary key even without statistics (a join with
   * `unnest` alone was planned as a hash join over every pending row).
   */
  async markDelivered(deliveries: readonly OutboxDelivery[]): Promise<string[]> {
    if (deliveries.length === 0) return [];
    const rows: { id: string }[] = await this.db.query(
      `WITH done AS (
         UPDATE otp_mail_outbox o SET status = 'delivered', payload_ciphertext = NULL, finished_at = now(),
           claimed_until = NULL, server_message_id = d.message_id, server_response = d.response, last_error = NULL
         FROM unnest($1::uuid[], $2::text[], $3::text[]) AS d (id, message_id, response)
         WHERE o.id = ANY($1::uuid[]) AND o.id = d.id AND o.status = 'pending' RETURNING o.id
       ) SELECT id FROM done`,
      [deliveries.map((d) => d.id), deliveries.map((d) => d.messageId), deliveries.map((d) => d.response)],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Releases the claim and schedules the next attempt after `delayMs`, or abandons
   * (and wipes) the row when that would be past its deadline. Returns the new status.
   */
  async scheduleRetry(id: string, errorClass: string, delayMs: number): Promise<'pending' | 'abandoned' | null> {
    const [row] = await this.db.query(
      `WITH next AS (
         UPDATE otp_mail_outbox SET claimed_until = NULL, last_error = $2,
           next_attempt_at = now() + make_interval(secs => $3 / 1000.0),
           status = CASE WHEN now() + make_interval(secs => $3 / 1000.0) >= deadline_at THEN 'abandoned' ELSE 'pending' END,
           payload_ciphertext = CASE WHEN now() + make_interval(secs => $3 / 1000.0) >= deadline_at THEN NULL ELSE payload_ciphertext END,
           finished_at = CASE WHEN now() + make_interval(secs => $3 / 1000.0) >= deadline_at THEN now() END
         WHERE id = $1 AND status = 'pending' RETURNING status
       ) SELECT status FROM next`,
      [id, errorClass, delayMs],
    );
    return row ? (row.status as 'pending' | 'abandoned') : null;
  }

  /**
   * Retention: abandons and wipes unclaimed rows still pending after `afterSeconds` (their
   * deadline passed long ago; the payload holds the requesting IP). Returns the row count.
   */
  async abandonPendingOlderThan(afterSeconds: number): Promise<number> {
    const rows: unknown[] = await this.db.query(
      `WITH gone AS (
         UPDATE otp_mail_outbox SET status = 'abandoned', payload_ciphertext = NULL, finished_at = now(),
           claimed_until = NULL, last_error = 'retention'
         WHERE status = 'pending' AND created_at < now() - make_interval(secs => $1)
           AND (claimed_until IS NULL OR claimed_until <= now())
         RETURNING id
       ) SELECT id FROM gone`,
      [afterSeconds],
    );
    return rows.length;
  }

  /** Gives up on a row (permanent failure) and wipes its payload. */
  async markAbandoned(id: string, errorClass: string): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `WITH gone AS (
         UPDATE otp_mail_outbox SET status = 'abandoned', payload_ciphertext = NULL, finished_at = now(),
           claimed_until = NULL, last_error = $2
         WHERE id = $1 AND status = 'pending' RETURNING id
       ) SELECT id FROM gone`,
      [id, errorClass],
    );
    return rows.length > 0;
  }

  /** The newest `limit` rows (capped at 200), newest first, without address, index or payload. */
  async recentStatuses(limit: number): Promise<OutboxStatusRow[]> {
    const rows: Record<string, unknown>[] = await this.db.query(
      `SELECT id, kind, purpose, status, attempts, last_error, created_at, finished_at
       FROM otp_mail_outbox ORDER BY created_at DESC, id LIMIT $1`,
      [Math.min(Math.max(limit, 1), 200)],
    );
    return rows.map((r) => ({
      id: r.id as string,
      kind: r.kind as OutboxRow['kind'],
      purpose: r.purpose as string,
      status: r.status as OutboxStatusRow['status'],
      attempts: Number(r.attempts),
      lastError: (r.last_error as string | null) ?? null,
      createdAt: new Date(r.created_at as string),
      finishedAt: r.finished_at ? new Date(r.finished_at as string) : null,
    }));
  }

  /** Whether a challenge was consumed, superseded or deleted (its code mail is moot). */
  async challengeEnded(challengeId: string): Promise<boolean> {
    const [row] = await this.db.query(
      `SELECT coalesce((SELECT consumed_at IS NOT NULL OR superseded_at IS NOT NULL FROM otp_challenges WHERE id = $1), true) AS ended`,
      [challengeId],
    );
    return row?.ended === true;
  }

  /** The sealed delivery details and purpose of a challenge (NULL once it ended). */
  async challengeDelivery(challengeId: string): Promise<{ purpose: string; recipientIndex: string; deliveryCiphertext: string | null } | null> {
    const [row] = await this.db.query(
      `SELECT purpose, recipient_index, delivery_ciphertext FROM otp_challenges WHERE id = $1`,
      [challengeId],
    );
    return row ? { purpose: row.purpose, recipientIndex: row.recipient_index, deliveryCiphertext: row.delivery_ciphertext } : null;
  }

  /**
   * Queues a security notice unless one of the same kind went to this address within
   * `intervalSeconds`: the gate row and the outbox row are written by one statement.
   */
  async queueNoticeOnce(row: NewNoticeRow, intervalSeconds: number): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `WITH gate AS (
         INSERT INTO otp_mail_notice_gates AS g (recipient_index, kind, last_queued_at)
         VALUES ($4, 'budget-notice', now())
         ON CONFLICT (recipient_index, kind) DO UPDATE SET last_queued_at = now()
         WHERE g.last_queued_at <= now() - make_interval(secs => $7)
         RETURNING 1
       ), queued AS (
         INSERT INTO otp_mail_outbox (id, challenge_id, kind, purpose, recipient_index, payload_ciphertext, deadline_at)
         SELECT $1, $2, 'budget-notice', $3, $4, $5, now() + make_interval(secs => $6) FROM gate
         RETURNING id
       ) SELECT id FROM queued`,
      [row.id, row.challengeId, row.purpose, row.recipientIndex, row.payloadCiphertext, row.deadlineSeconds, intervalSeconds],
    );
    return rows.length > 0;
  }
}
