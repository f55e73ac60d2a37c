import { Injectable } from '@nestjs/common';
import { challengeEnded } from '../../persistence/otp-challenge.sql';
import { OtpSql } from '../../persistence/otp-sql';
import {
  ABANDON_PENDING_OLDER_THAN, claimDueSql, MARK_ABANDONED, MARK_DELIVERED, QUEUE_BUDGET_NOTICE, RECENT_STATUSES, SCHEDULE_RETRY,
} from './otp-mail-outbox.sql';

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

const CLAIM_DUE = claimDueSql(challengeEnded('o.challenge_id'));
/** A code's mail is moot once its challenge ended, or is gone. */
const CODE_MAIL_MOOT = `SELECT coalesce(${challengeEnded('$1')}, true) AS ended`;

/**
 * Owns `otp_mail_outbox` and `otp_mail_notice_gates`. Each method is one statement.
 * Those of each message (record, retry, abandon, the challenge re-check) reach their rows
 * by primary key and go out prepared; the claim, whose best plan depends on the backlog,
 * and the rare maintenance statements are planned for their values on every call.
 * Rows are also written by the statements that create their code (`OtpChallengeStore`)
 * or device (`OtpKnownDeviceStore`), through the fragments of `otp-mail-outbox.sql.ts`;
 * here they are claimed, settled and, for budget notices, queued behind a per-address gate.
 */
@Injectable()
export class OtpMailOutboxStore {
  constructor(private readonly sql: OtpSql) {}

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
    const rows = await this.sql.rows('outbox_claim', CLAIM_DUE, [workerId, limit, leaseSeconds], 'unprepared');
    return rows.map(toRow);
  }

  /**
   * Records the relay's acceptance of several messages and wipes their payloads, in one
   * statement. Returns the ids that were still pending (and so are now delivered). The
   * `= ANY` keeps the rows reached by primary key even without statistics (a join with
   * `unnest` alone was planned as a hash join over every pending row), and in the generic
   * plan of the prepared statement too: it runs once per group of deliveries, and parsing
   * and planning it each time cost PostgreSQL about as much as running it.
   */
  async markDelivered(deliveries: readonly OutboxDelivery[]): Promise<string[]> {
    if (deliveries.length === 0) return [];
    const rows = await this.sql.rows<{ id: string }>('outbox_delivered', MARK_DELIVERED,
      [deliveries.map((d) => d.id), deliveries.map((d) => d.messageId), deliveries.map((d) => d.response)], 'prepared');
    return rows.map((r) => r.id);
  }

  /**
   * Releases the claim and schedules the next attempt after `delayMs`, or abandons
   * (and wipes) the row when that would be past its deadline. Returns the new status.
   */
  async scheduleRetry(id: string, errorClass: string, delayMs: number): Promise<'pending' | 'abandoned' | null> {
    const [row] = await this.sql.rows<{ status: 'pending' | 'abandoned' }>('outbox_retry', SCHEDULE_RETRY, [id, errorClass, delayMs], 'prepared');
    return row ? row.status : null;
  }

  /**
   * Retention: abandons and wipes unclaimed rows still pending after `afterSeconds` (their
   * deadline passed long ago; the payload holds the requesting IP). Returns the row count.
   */
  async abandonPendingOlderThan(afterSeconds: number): Promise<number> {
    return this.sql.count('outbox_retention', ABANDON_PENDING_OLDER_THAN, [afterSeconds], 'unprepared');
  }

  /** Gives up on a row (permanent failure) and wipes its payload. */
  async markAbandoned(id: string, errorClass: string): Promise<boolean> {
    return (await this.sql.count('outbox_abandon', MARK_ABANDONED, [id, errorClass], 'prepared')) > 0;
  }

  /** The newest `limit` rows (capped at 200), newest first, without address, index or payload. */
  async recentStatuses(limit: number): Promise<OutboxStatusRow[]> {
    const rows = await this.sql.rows('outbox_recent_statuses', RECENT_STATUSES, [Math.min(Math.max(limit, 1), 200)], 'unprepared');
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
    const [row] = await this.sql.rows<{ ended: boolean }>('outbox_code_moot', CODE_MAIL_MOOT, [challengeId], 'prepared');
    return row?.ended === true;
  }

  /**
   * Queues a security notice unless one of the same kind went to this address within
   * `intervalSeconds`: the gate row and the outbox row are written by one statement.
   */
  async queueNoticeOnce(row: NewNoticeRow, intervalSeconds: number): Promise<boolean> {
    const queued = await this.sql.count('outbox_budget_notice', QUEUE_BUDGET_NOTICE,
      [row.id, row.challengeId, row.purpose, row.recipientIndex, row.payloadCiphertext, row.deadlineSeconds, intervalSeconds], 'unprepared');
    return queued > 0;
  }
}
