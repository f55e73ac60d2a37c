import { randomBytes } from 'node:crypto';
import type { AuditRowInput } from './otp-audit.store';

/*
 * The audit chain's append statement (`OtpAuditStore.appendChained`) and what goes with it: its parameters, and the
 * batch id that makes a retry write nothing twice.
 */

/**
 * What the append statement reads of a row besides its canonical body (`APPEND_CHAINED`'s `$1`: one
 * JSON array per row, by position): the personal fields and their salts, which the chain does not
 * cover. Every text went through `encodeControl` (well-formed, no control characters), so `jsonb`
 * takes it as it is.
 */
export function personalInput(r: AuditRowInput): (string | null)[] {
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
export const APPEND_CHAINED = `WITH RECURSIVE head AS (
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
export function isDuplicateBatch(err: unknown): boolean {
  const e = ((err as { driverError?: unknown })?.driverError ?? err) as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && e.constraint === 'otp_audit_batch_pkey';
}

/** A batch id is kept at least this long, whatever the spent-row period: it has to outlive the writer's retries. */
export const BATCH_ID_MIN_SECONDS = 86_400;

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
