import { Injectable } from '@nestjs/common';
import { OtpSql, OtpSqlRunner } from '../persistence/otp-sql';
import { auditEventOf, AuditDetail, canonicalBody, ChainedContent, erasureDigest, PersonalFields } from './audit-chain';
import { isoTime } from '../core/iso-time';

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

/**
 * A row as the append statement reads it: one JSON array per row, by position (`APPEND_CHAINED`'s
 * `input`). Every text went through `encodeControl` (well-formed, no control characters), so
 * `jsonb` takes it as it is.
 */
function appendInput(r: AuditRowInput): unknown[] {
  return [canonicalBody(r), isoTime(r.at), r.event, r.owasp ?? null, r.outcome, r.challengeId ?? null, r.purpose ?? null,
    r.requestId ?? null, r.detail ? JSON.stringify(r.detail) : null, r.subjectCommitment ?? null, r.recipientIndex ?? null,
    r.ip ?? null, r.userAgent ?? null, r.piiSalt ?? null, r.version ?? 2, r.linkCommitment ?? null, r.linkSalt ?? null,
    r.ipNetwork ?? null];
}

/**
 * Appends `$1` (a JSON array of `appendInput` rows) to the chain. The head row is locked FOR UPDATE
 * first, so concurrent appenders (any process) queue on it and each batch links to
 * the hash the previous one left; the hashes are computed by the database from the canonical bodies
 * (the same function `verifyAuditChain` recomputes). One text for every batch size: prepared once per
 * connection (one JSON parameter costs the app a fraction of eighteen text arrays, element by element).
 */
const APPEND_CHAINED = `WITH RECURSIVE head AS (
     SELECT seq, hash FROM otp_audit_head WHERE id = 1 FOR UPDATE
   ), input AS (
     SELECT e.ord, e.v->>0 AS body, (e.v->>1)::timestamptz AS at, e.v->>2 AS event, e.v->>3 AS owasp, e.v->>4 AS outcome,
       e.v->>5 AS challenge_id, e.v->>6 AS purpose, e.v->>7 AS request_id, e.v->>8 AS detail, e.v->>9 AS subject_commitment,
       e.v->>10 AS recipient_index, e.v->>11 AS ip, e.v->>12 AS user_agent, e.v->>13 AS pii_salt,
       (e.v->>14)::smallint AS body_version, e.v->>15 AS link_commitment, e.v->>16 AS link_salt, e.v->>17 AS ip_network
     FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(v, ord)
   ), chain AS (
     SELECT i.ord, h.seq + 1 AS seq, h.hash AS prev_hash,
       encode(sha256(convert_to(h.hash || E'\\n' || (h.seq + 1)::text || E'\\n' || i.body, 'UTF8')), 'hex') AS hash
     FROM head h JOIN input i ON i.ord = 1
     UNION ALL
     SELECT i.ord, c.seq + 1, c.hash,
       encode(sha256(convert_to(c.hash || E'\\n' || (c.seq + 1)::text || E'\\n' || i.body, 'UTF8')), 'hex')
     FROM chain c JOIN input i ON i.ord = c.ord + 1
   ), inserted AS (
     INSERT INTO otp_audit_log (seq, at, event, owasp, outcome, challenge_id, purpose, request_id, detail,
       subject_commitment, recipient_index, ip, user_agent, pii_salt, body_version, link_commitment, link_salt, ip_network,
       prev_hash, hash)
     SELECT c.seq, i.at, i.event, i.owasp, i.outcome, i.challenge_id, i.purpose, i.request_id, i.detail::jsonb,
       i.subject_commitment, i.recipient_index, i.ip, i.user_agent, i.pii_salt, i.body_version, i.link_commitment,
       i.link_salt, i.ip_network, c.prev_hash, c.hash
     FROM chain c JOIN input i ON i.ord = c.ord
     RETURNING seq
   )
   UPDATE otp_audit_head SET seq = last.seq, hash = last.hash
   FROM (SELECT seq, hash FROM chain ORDER BY ord DESC LIMIT 1) AS last
   WHERE otp_audit_head.id = 1 AND (SELECT count(*) FROM inserted) = (SELECT count(*) FROM input)`;

/** Queries on the audit tables; each method is one statement (erasure: one transaction). */
@Injectable()
export class OtpAuditStore {
  constructor(private readonly sql: OtpSql) {}

  /** Appends rows to the chain in one statement (`APPEND_CHAINED`: linked under the head's lock, hashed by the database). */
  async appendChained(rows: AuditRowInput[], run: OtpSqlRunner = this.sql): Promise<void> {
    if (rows.length === 0) return;
    await run.count('audit_append', APPEND_CHAINED, [JSON.stringify(rows.map(appendInput))]);
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
