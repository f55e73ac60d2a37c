import { Injectable } from '@nestjs/common';
import { OtpSql, OtpSqlRunner } from '../persistence/otp-sql';
import { auditEventOf, AuditDetail, canonicalBody, ChainedContent, erasureDigest, PersonalFields } from './audit-chain';
import { APPEND_CHAINED, BATCH_ID_MIN_SECONDS, isDuplicateBatch, personalInput } from './otp-audit.sql';

/** A row ready to append: hashed content, personal fields and their salt. */
export interface AuditRowInput extends ChainedContent, PersonalFields {
  piiSalt: string | null;
  /** Salt of the link commitment (`ChainedContent.linkCommitment`); IP truncation keeps it, erasure drops it. */
  linkSalt?: string | null;
  /** The network of `ip` (what IP truncation leaves), bound by the link commitment. */
  ipNetwork?: string | null;
}

/** A stored row, as the query API returns it. */
export interface AuditRecord {
  seq: string;
  at: Date;
  event: string;
  owasp: string | null;
  outcome: string;
  challengeId: string | null;
  purpose: string | null;
  recipientIndex: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  detail: AuditDetail | null;
  hash: string;
}

/** Filters of the query API; all optional, combined with AND. */
export interface AuditFilter {
  recipientIndex?: string;
  ip?: string;
  challengeId?: string;
  event?: string;
  from?: Date;
  to?: Date;
  /** Rows with a larger seq only (paging). */
  afterSeq?: string;
  limit?: number;
  /** `desc`: the newest matches (the last `limit` rows), newest first. @default 'asc' */
  order?: 'asc' | 'desc';
}

const COLUMNS = `seq, at, event, owasp, outcome, challenge_id, purpose, recipient_index, ip, user_agent, request_id, detail, hash`;

function toRecord(r: Record<string, unknown>): AuditRecord {
  return {
    seq: String(r.seq),
    ...auditEventOf(r),
    recipientIndex: (r.recipient_index as string) ?? null,
    ip: (r.ip as string) ?? null,
    userAgent: (r.user_agent as string) ?? null,
    hash: r.hash as string,
  };
}

/** The `audit.erased` event of an erasure: how many rows, and a digest of their seqs; never the subject. */
export function erasedEvent(seqs: string[]): AuditRowInput {
  return {
    at: new Date(), event: 'audit.erased', owasp: null, outcome: 'success', challengeId: null, purpose: null, requestId: null,
    detail: { rows: seqs.length, firstSeq: seqs.length > 0 ? Number(seqs[0]) : null, seqsDigest: erasureDigest(seqs) },
    subjectCommitment: null, recipientIndex: null, ip: null, userAgent: null, piiSalt: null,
    version: 2, linkCommitment: null, linkSalt: null, ipNetwork: null,
  };
}

/** Queries on the audit tables; each method is one statement (erasure: one transaction). */
@Injectable()
export class OtpAuditStore {
  constructor(private readonly sql: OtpSql) {}

  /**
   * Appends rows to the chain in one statement (`APPEND_CHAINED`: linked under the head's lock, hashed by the
   * database); resolves to the seq of the last row written (undefined for no rows). With a `batchId`, the
   * statement also records the id (`otp_audit_batch`), so a batch is in the chain at most once (`appendBatch`).
   */
  async appendChained(rows: AuditRowInput[], run: OtpSqlRunner = this.sql, batchId: string | null = null): Promise<string | undefined> {
    if (rows.length === 0) return undefined;
    const [head] = await run.rows<{ seq: string }>('audit_append', APPEND_CHAINED,
      [JSON.stringify(rows.map(personalInput)), rows.map(canonicalBody).join('\n'), batchId]);
    // No head row (otp_audit_head id 1) to link to: the statement linked and wrote nothing, which must not pass for written.
    if (!head) throw new Error(`audit append wrote nothing: the chain's head row (otp_audit_head, id 1) is missing`);
    return head.seq;
  }

  /**
   * Appends one batch of the audit writer under its id (`newBatchId`), the same id on every try: resolves
   * once the batch is in the chain, whether this try wrote it or an earlier one did (whose answer was lost,
   * or whose server process was still waiting for the head's lock when its client gave up). A try of a batch
   * that is in already fails on the id's primary key, and its statement writes nothing.
   */
  async appendBatch(rows: AuditRowInput[], batchId: string): Promise<void> {
    try {
      await this.appendChained(rows, this.sql, batchId);
    } catch (err) {
      if (!isDuplicateBatch(err)) throw err;
    }
  }

  /** Rows matching the filter, oldest first (newest first with `order: 'desc'`), at most `limit` (capped at 1000). */
  async find(f: AuditFilter): Promise<AuditRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.recipientIndex) add('recipient_index = ?', f.recipientIndex);
    if (f.ip) add('ip = ?', f.ip);
    if (f.challengeId) add('challenge_id = ?', f.challengeId);
    if (f.event) add('event = ?', f.event);
    if (f.from) add('at >= ?', f.from);
    if (f.to) add('at < ?', f.to);
    if (f.afterSeq) add('seq > ?::bigint', f.afterSeq);
    params.push(Math.min(Math.max(f.limit ?? 100, 1), 1000));
    const rows = await this.sql.rows('audit_find',
      `SELECT ${COLUMNS} FROM otp_audit_log ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
       ORDER BY seq ${f.order === 'desc' ? 'DESC' : 'ASC'} LIMIT $${params.length}`,
      params, 'unprepared');
    return rows.map(toRecord);
  }

  /** The newest rows of an event, newest first (at most `limit`, capped at 1000): the operator console's feeds. */
  async recent(event: string, limit: number): Promise<AuditRecord[]> {
    const rows = await this.sql.rows('audit_recent', `SELECT ${COLUMNS} FROM otp_audit_log WHERE event = $1 ORDER BY seq DESC LIMIT $2`,
      [event, Math.min(Math.max(limit, 1), 1000)], 'unprepared');
    return rows.map(toRecord);
  }

  /** The newest row of an event, if any. */
  async latest(event: string): Promise<AuditRecord | undefined> {
    const rows = await this.sql.rows('audit_latest', `SELECT ${COLUMNS} FROM otp_audit_log WHERE event = $1 ORDER BY seq DESC LIMIT 1`,
      [event], 'unprepared');
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /**
   * Drops the personal fields of every row of a subject (erasure) and, in the same
   * transaction, appends the `audit.erased` event built by `eventOf` from the seqs it emptied
   * (the function marked them `erased_by` = that event's seq); returns the row count.
   */
  async eraseSubject(recipientIndex: string, eventOf: (seqs: string[]) => AuditRowInput = erasedEvent): Promise<number> {
    return this.sql.transaction(async (tx) => {
      const [row] = await tx.rows('audit_erase', `SELECT otp_audit_erase_subject($1) AS n`, [recipientIndex]);
      // In the order of the numbers (the verifier's): `ORDER BY seq` would sort the text alias, 10 before 9.
      const seqs = await tx.rows<{ seq: string }>('audit_erased_seqs',
        `SELECT l.seq::text AS seq FROM otp_audit_log l WHERE l.erased_by = (SELECT seq + 1 FROM otp_audit_head WHERE id = 1) ORDER BY l.seq`);
      await this.appendChained([eventOf(seqs.map((s) => s.seq))], tx);
      return Number(row.n);
    });
  }

  /** Retention: deletes the ids of batches appended more than `afterSeconds` ago (never within `BATCH_ID_MIN_SECONDS`); returns the count. */
  async purgeBatchIds(afterSeconds: number): Promise<number> {
    return this.sql.count('audit_purge_batch_ids', `DELETE FROM otp_audit_batch WHERE appended_at < now() - make_interval(secs => $1)`,
      [Math.max(afterSeconds, BATCH_ID_MIN_SECONDS)], 'unprepared');
  }

  /** Cuts the IPs of rows older than `cutoff` to their network (R38); returns the row count. */
  async truncateIpsBefore(cutoff: Date): Promise<number> {
    const [row] = await this.sql.rows('audit_truncate_ips', `SELECT otp_audit_truncate_ips_before($1) AS n`, [cutoff], 'unprepared');
    return Number(row.n);
  }

  /** Deletes the chain's prefix older than `cutoff`, keeping its last hash as the anchor. */
  async purgeBefore(cutoff: Date): Promise<number> {
    const [row] = await this.sql.rows('audit_purge', `SELECT otp_audit_purge_before($1) AS n`, [cutoff], 'unprepared');
    return Number(row.n);
  }
}
