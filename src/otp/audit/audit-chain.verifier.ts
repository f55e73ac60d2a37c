import { DEFAULT_AUDIT_RETENTION_SECONDS, DEFAULT_IP_TRUNCATE_SECONDS } from './audit-options';
import { AuditDetail, chainHash, commitLink, commitPersonal, erasureDigest, storedBody } from './audit-chain';

/** Runs one SQL statement and returns its rows (a DataSource or a bare `pg` client). */
export type AuditQuery = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

export interface ChainVerification {
  ok: boolean;
  /** Rows checked. */
  rows: number;
  /** Where verification started: the anchor left by the last purge (seq 0 = genesis). */
  anchorSeq: string;
  /** The head after the check: publish it elsewhere to anchor the chain externally (R40). */
  headSeq: string;
  headHash: string;
  /** External anchors the chain was checked against (when any were given). */
  anchorsReached?: number;
  /** The first row that does not verify, and why. */
  firstBroken?: { seq: string; reason: string };
}

/** A head recorded outside the database (`npm run audit:anchor`). */
export interface AuditAnchor {
  seq: string;
  hash: string;
  /** When it was recorded (ISO time). */
  at?: string;
}

/** What the verifier needs to know beyond the database. */
export interface VerifyOptions {
  /** The security window of IPs (`retention.ipTruncateSeconds`): no row may be truncated earlier. */
  ipTruncateSeconds?: number;
  /** External anchors: the chain must still reach each (its row at that seq has that hash). */
  anchors?: AuditAnchor[];
  /**
   * The audit retention period (`retention.auditSeconds`): a purge deletes only rows older than
   * it, so an external anchor below the purge anchor must have been recorded before it began.
   */
  auditRetentionSeconds?: number;
}

const PAGE = 1000;
/** How far the database clock may run ahead of the verifier's. */
const CLOCK_SKEW_MS = 5 * 60_000;
type Row = Record<string, unknown>;
type Problem = { seq?: string; reason: string };

/** What IP truncation leaves: an IPv4 /24 or an IPv6 /48 network. */
const NETWORK = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.0\/24|[0-9a-f:]+\/48)$/i;

/**
 * Walks the chain from its anchor: every seq present and in order, every prev_hash
 * the previous row's hash, every hash recomputed from the row, every personal field
 * bound to its commitments (after IP truncation, which may not precede the window, by
 * the link commitment; emptied fields only by a matching `audit.erased` event), the last
 * row equal to the head, and every external anchor reached.
 */
export async function verifyAuditChain(query: AuditQuery, options: VerifyOptions = {}): Promise<ChainVerification> {
  const [anchor] = await query(`SELECT seq::text AS seq, hash FROM otp_audit_anchor WHERE id = 1`);
  const [head] = await query(`SELECT seq::text AS seq, hash FROM otp_audit_head WHERE id = 1`);
  const result: ChainVerification = {
    ok: true, rows: 0, anchorSeq: String(anchor.seq), headSeq: String(head.seq), headHash: String(head.hash),
  };
  const broken = (seq: bigint | string, reason: string): ChainVerification =>
    ({ ...result, ok: false, firstBroken: { seq: String(seq), reason } });

  // Rows up to the anchor were purged; one still there means the purge was undone or forged.
  const [early] = await query(`SELECT max(seq)::text AS seq FROM otp_audit_log WHERE seq <= $1::bigint`, [String(anchor.seq)]);
  if (early?.seq !== null && early?.seq !== undefined) return broken(early.seq as string, 'row at or before the anchor');

  const external = new Map<string, AuditAnchor>();
  for (const a of options.anchors ?? []) if (!external.has(a.seq)) external.set(a.seq, a);
  const unreached = (a: AuditAnchor, why: string) =>
    broken(a.seq, `anchor seq ${a.seq} (hash ${a.hash.slice(0, 12)}…, recorded ${a.at ?? 'at an unknown time'}) not reached: ${why}`);
  // Anchors at or before the purge anchor: only the purge anchor itself can still be compared.
  const purged = external.get(result.anchorSeq);
  if (purged && purged.hash !== String(anchor.hash)) return unreached(purged, 'the purge anchor has another hash');
  // Below it, an anchor's row is gone. A purge deletes only rows older than the retention period,
  // and every row after an anchor was written after the anchor was recorded: so a real purge past
  // an anchor means that anchor was recorded before the retention period. A purge anchor (and
  // head) moved past recent anchors after deleting the rows is caught here.
  const retentionMs = (options.auditRetentionSeconds ?? DEFAULT_AUDIT_RETENTION_SECONDS) * 1000;
  const retentionStart = Date.now() - retentionMs + CLOCK_SKEW_MS;
  const below = [...external.values()].filter((a) => BigInt(a.seq) < BigInt(result.anchorSeq)).sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
  for (const a of below) {
    const at = a.at === undefined ? NaN : Date.parse(a.at);
    if (Number.isNaN(at)) return unreached(a, `below the purge anchor ${result.anchorSeq}, and with no recording time nothing shows a purge reached it`);
    if (at > retentionStart) {
      return unreached(a, `below the purge anchor ${result.anchorSeq}, but recorded within the audit retention period (${retentionMs / 1000} s), which no purge reaches`);
    }
  }

  const windowMs = (options.ipTruncateSeconds ?? DEFAULT_IP_TRUNCATE_SECONDS) * 1000;
  const erasures = new ErasureMatcher();
  let expectedSeq = BigInt(anchor.seq as string) + 1n;
  let prev = String(anchor.hash);
  for (;;) {
    // Each page starts at the first seq not yet checked (never re-reads the last row of a page).
    const rows = await query(
      `SELECT seq::text AS seq, at, event, owasp, outcome, challenge_id, purpose, request_id, detail,
         subject_commitment, recipient_index, ip, user_agent, pii_salt, ip_truncated_at, prev_hash, hash,
         body_version, link_commitment, link_salt, ip_network, erased_by::text AS erased_by
       FROM otp_audit_log l WHERE l.seq >= $1::bigint ORDER BY l.seq LIMIT ${PAGE}`,
      [expectedSeq.toString()],
    );
    for (const r of rows) {
      const seq = BigInt(r.seq as string);
      if (seq !== expectedSeq) return broken(expectedSeq, `row missing (next present is ${seq})`);
      if (r.prev_hash !== prev) return broken(seq, 'prev_hash does not match the previous row');
      const body = storedBody(r);
      if (chainHash(prev, r.seq as string, body) !== r.hash) return broken(seq, 'content does not match its hash');
      const problem = personalFieldsProblem(r, windowMs) ?? erasures.see(r, result.anchorSeq);
      if (problem) return broken(problem.seq ?? seq, problem.reason);
      const outside = external.get(r.seq as string);
      if (outside && outside.hash !== r.hash) return unreached(outside, `row ${r.seq} has another hash`);
      prev = r.hash as string;
      expectedSeq = seq + 1n;
      result.rows++;
    }
    if (rows.length < PAGE) break;
  }
  const last = expectedSeq - 1n;
  const dangling = erasures.unmatched();
  if (dangling) return broken(dangling.seq!, dangling.reason);
  const beyond = [...external.values()].filter((a) => BigInt(a.seq) > last).sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
  if (beyond.length > 0) return unreached(beyond[0], `the chain ends at seq ${last}`);
  if (last.toString() !== result.headSeq) {
    return broken(last < BigInt(result.headSeq) ? last + 1n : last, `chain ends at ${last} but the head says ${result.headSeq}`);
  }
  if (prev !== result.headHash) return broken(last, 'last hash does not match the head');
  if (options.anchors) result.anchorsReached = [...external.values()].filter((a) => BigInt(a.seq) >= BigInt(result.anchorSeq)).length;
  return result;
}

const text = (v: unknown) => (v === null || v === undefined ? null : String(v));

/**
 * The personal fields of a row against its commitments: exact while the personal salt is there;
 * after IP truncation (never before the window) still bound by the link commitment (version 2);
 * emptied only by an erasure (`erased_by`, checked by `ErasureMatcher`).
 */
function personalFieldsProblem(r: Row, windowMs: number): Problem | null {
  const at = r.at as Date;
  const truncatedAt = r.ip_truncated_at as Date | null;
  // A truncation dated later than now (allowing for clock skew) hides an early one: forged.
  if (truncatedAt && truncatedAt.getTime() > Date.now() + CLOCK_SKEW_MS) {
    return { reason: `IP truncation dated in the future (${truncatedAt.toISOString()})` };
  }
  if (truncatedAt && truncatedAt.getTime() < at.getTime() + windowMs) {
    return { reason: `IP truncated before the security window (at ${truncatedAt.toISOString()}, window ends ${new Date(at.getTime() + windowMs).toISOString()})` };
  }
  const v2 = Number(r.body_version) === 2;
  const recipientIndex = text(r.recipient_index);
  const ip = text(r.ip);
  const userAgent = text(r.user_agent);
  const anyField = recipientIndex !== null || ip !== null || userAgent !== null;
  const mismatch = { reason: 'personal fields do not match their commitment' };
  if (r.pii_salt) {
    if (commitPersonal({ recipientIndex, ip, userAgent }, String(r.pii_salt)) !== r.subject_commitment) return mismatch;
    if (v2 && (r.link_commitment !== null || r.link_salt !== null)
      && commitLink({ recipientIndex, userAgent, ipNetwork: text(r.ip_network) }, String(r.link_salt ?? '')) !== r.link_commitment) return mismatch;
    return null;
  }
  if (r.erased_by !== null && r.erased_by !== undefined) {
    if (anyField || r.link_salt !== null || r.ip_network !== null) return { reason: 'personal fields present on an erased row' };
    return null; // matched against its erasure event by ErasureMatcher
  }
  if (truncatedAt) {
    if (!v2) {
      // Version 1: the salt went with the exact IP; what is left is unbound but may only be a network.
      return ip !== null && !NETWORK.test(ip) ? { reason: 'truncated IP is not a network' } : null;
    }
    if (r.link_commitment === null && !anyField) return null;
    if (!r.link_salt || r.ip_network !== null) return mismatch;
    return commitLink({ recipientIndex, userAgent, ipNetwork: ip }, String(r.link_salt)) === r.link_commitment ? null : mismatch;
  }
  if (anyField) return { reason: 'personal fields present without their salt' };
  // Emptied fields: only an erasure may do that (version 1 rows predate erasure events and are let be).
  if (v2 && (r.subject_commitment !== null || r.link_commitment !== null)) return { reason: 'personal fields emptied without an erasure event' };
  return null;
}

/**
 * Erasure is a chained event: every row it emptied names it (`erased_by`), and the
 * `audit.erased` event at that seq records how many rows and a digest of their seqs.
 */
class ErasureMatcher {
  private readonly pending = new Map<string, string[]>();

  /** Notes an erased row, or checks an event against the rows that name it. */
  see(r: Row, anchorSeq: string): Problem | null {
    const seq = String(r.seq);
    if (r.erased_by !== null && r.erased_by !== undefined) {
      const by = String(r.erased_by);
      if (BigInt(by) <= BigInt(seq)) return { reason: `erased by seq ${by}, which is not after it` };
      this.pending.set(by, [...(this.pending.get(by) ?? []), seq]);
    }
    const emptied = this.pending.get(seq) ?? [];
    this.pending.delete(seq);
    if (r.event !== 'audit.erased') {
      return emptied.length > 0 ? { seq: emptied[0], reason: `erased by seq ${seq}, which is not an erasure event` } : null;
    }
    const d = (r.detail ?? {}) as AuditDetail;
    // An erasure whose oldest rows were purged since: only the rows left can be counted.
    const partlyPurged = typeof d.firstSeq === 'number' && BigInt(d.firstSeq) <= BigInt(anchorSeq);
    const matches = partlyPurged
      ? emptied.length <= Number(d.rows)
      : Number(d.rows) === emptied.length && d.seqsDigest === erasureDigest(emptied);
    if (matches) return null;
    return { seq: emptied[0] ?? seq, reason: `erasure event at seq ${seq} does not match the rows it emptied (${d.rows} recorded, ${emptied.length} found)` };
  }

  /** A row naming an erasure event the chain never reached. */
  unmatched(): Problem | null {
    for (const [by, seqs] of this.pending) return { seq: seqs[0], reason: `erased by seq ${by}, which the chain does not reach` };
    return null;
  }
}
