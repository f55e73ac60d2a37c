import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { OtpSql, OtpSqlRunner } from '../persistence/otp-sql';
import { auditEventOf, AuditDetail, canonicalBody, ChainedContent, erasureDigest, PersonalFields } from './audit-chain';

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
 * What the append statement reads of a row besides its canonical body (`APPEND_CHAINED`'s `$1`: one
 * JSON array per row, by position): the personal fields and their salts, which the chain does not
 * cover. Every text went through `encodeControl` (well-formed, no control characters), so `jsonb`
 * takes it as it is.
 */
function personalInput(r: AuditRowInput): (string | null)[] {
  return [r.recipientIndex ?? null, r.ip ?? null, r.userAgent ?? null, r.piiSalt ?? null, r.linkSalt ?? null, r.ipNetwork ?? null];
}

/**
 * Appends rows to the chain: `$2` holds their canonical bodies, one per line (a body is
 * `JSON.stringify`'s output, which never holds a raw line break), `$1` the rest (`personalInput`).
 * The chained columns are read back from each body (`b.o` skips version 2's leading `"v2"`), so
 * the stored columns the verifier rebuilds a body from are that body by construction (R40), and the
 * body travels once, as it is, instead of escaped a second time inside a JSON parameter. The head
 * row is locked FOR UPDATE first, so concurrent appenders (any process) queue on it and each batch
 * links to the hash the previous one left; the hashes are computed by the database from the bodies
 * (the same function `verifyAuditChain` recomputes). One text for every batch size: prepared once
 * per connection.
 */
const APPEND_CHAINED = `WITH RECURSIVE head AS (
     SELECT seq, hash FROM otp_audit_head WHERE id = 1 FOR UPDATE
   ), input AS (
     SELECT b.ord, b.body, (b.j->>b.o)::timestamptz AS at, b.j->>(b.o + 1) AS event, b.j->>(b.o + 2) AS owasp,
       b.j->>(b.o + 3) AS outcome, b.j->>(b.o + 4) AS challenge_id, b.j->>(b.o + 5) AS purpose,
       b.j->>(b.o + 6) AS request_id, b.j->>(b.o + 7) AS detail, b.j->>(b.o + 8) AS subject_commitment,
       CASE b.o WHEN 1 THEN b.j->>10 END AS link_commitment, (b.o + 1)::smallint AS body_version,
       e.v->>0 AS recipient_index, e.v->>1 AS ip, e.v->>2 AS user_agent, e.v->>3 AS pii_salt, e.v->>4 AS link_salt,
       e.v->>5 AS ip_network
     FROM (SELECT t.ord, t.body, t.body::jsonb AS j, CASE WHEN left(t.body, 6) = '["v2",' THEN 1 ELSE 0 END AS o
           FROM unnest(string_to_array($2::text, E'\\n')) WITH ORDINALITY AS t(body, ord)) b
     JOIN jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(v, ord) ON e.ord = b.ord
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
   ), last AS (
     SELECT seq, hash FROM chain ORDER BY ord DESC LIMIT 1
   ), complete AS (
     SELECT (SELECT count(*) FROM inserted) = (SELECT count(*) FROM input) AS ok
   ), batch AS (
     INSERT INTO otp_audit_batch (id, last_seq)
     SELECT $3::uuid, last.seq FROM last, complete WHERE $3::uuid IS NOT NULL AND complete.ok
   )
   UPDATE otp_audit_head SET seq = last.seq, hash = last.hash
   FROM last, complete
   WHERE otp_audit_head.id = 1 AND complete.ok
   RETURNING otp_audit_head.seq::text AS seq`;

/** The append's batch id is in `otp_audit_batch` already (23505 on its primary key): that batch is in the chain. */
function isDuplicateBatch(err: unknown): boolean {
  const e = (err as { driverError?: unknown })?.driverError ?? err;
  const { code, constraint, message } = (e ?? {}) as { code?: unknown; constraint?: unknown; message?: unknown };
  return code === '23505' && (constraint === 'otp_audit_batch_pkey' || String(message).includes('"otp_audit_batch_pkey"'));
}

/**
 * A batch id: a UUID version 7 (RFC 9562), 48 bits of milliseconds then 74 random bits, so ids arrive in
 * order at the end of the primary key's index. Hand-written: `node:crypto` makes only version 4.
 */
export function newBatchId(now = Date.now()): string {
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | (b[6] & 0x0f);
  b[8] = 0x80 | (b[8] & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
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
    return head?.seq;
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
