import { AuditDetail, canonicalBody, chainHash, commitPersonal } from './audit-chain';

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
}

const PAGE = 1000;
/** What IP truncation leaves: an IPv4 /24 or an IPv6 /48 network. */
const NETWORK = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.0\/24|[0-9a-f:]+\/48)$/i;

/**
 * Walks the chain from its anchor: every seq present and in order, every prev_hash
 * the previous row's hash, every hash recomputed from the row, every personal
 * field bound to its commitment (unless erased, or truncated past the security
 * window: see the TruncateOtpAuditIps migration), and the last row equal to the head.
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

  let expectedSeq = BigInt(anchor.seq as string) + 1n;
  let prev = String(anchor.hash);
  for (;;) {
    // Each page starts at the first seq not yet checked (never re-reads the last row of a page).
    const rows = await query(
      `SELECT seq::text AS seq, at, event, owasp, outcome, challenge_id, purpose, request_id, detail,
         subject_commitment, recipient_index, ip, user_agent, pii_salt, ip_truncated_at, prev_hash, hash
       FROM otp_audit_log l WHERE l.seq >= $1::bigint ORDER BY l.seq LIMIT ${PAGE}`,
      [expectedSeq.toString()],
    );
    for (const r of rows) {
      const seq = BigInt(r.seq as string);
      if (seq !== expectedSeq) return broken(expectedSeq, `row missing (next present is ${seq})`);
      if (r.prev_hash !== prev) return broken(seq, 'prev_hash does not match the previous row');
      const body = canonicalBody({
        at: r.at as Date,
        event: r.event as string,
        owasp: (r.owasp as string) ?? null,
        outcome: r.outcome as string,
        challengeId: (r.challenge_id as string) ?? null,
        purpose: (r.purpose as string) ?? null,
        requestId: (r.request_id as string) ?? null,
        detail: (r.detail as AuditDetail) ?? null,
        subjectCommitment: (r.subject_commitment as string) ?? null,
      });
      if (chainHash(prev, r.seq as string, body) !== r.hash) return broken(seq, 'content does not match its hash');
      const personal = {
        recipientIndex: (r.recipient_index as string) ?? null,
        ip: (r.ip as string) ?? null,
        userAgent: (r.user_agent as string) ?? null,
      };
      if (r.pii_salt) {
        if (commitPersonal(personal, r.pii_salt as string) !== r.subject_commitment) {
          return broken(seq, 'personal fields do not match their commitment');
        }
      } else if (r.ip_truncated_at) {
        // IP truncation dropped the salt with the exact IP (like erasure): the fields left are no
        // longer bound to the commitment, but the IP can only be a network, never an address.
        if (personal.ip !== null && !NETWORK.test(personal.ip)) return broken(seq, 'truncated IP is not a network');
      } else if (personal.recipientIndex !== null || personal.ip !== null || personal.userAgent !== null) {
        return broken(seq, 'personal fields present without their salt');
      }
      const outside = external.get(r.seq as string);
      if (outside && outside.hash !== r.hash) return unreached(outside, `row ${r.seq} has another hash`);
      prev = r.hash as string;
      expectedSeq = seq + 1n;
      result.rows++;
    }
    if (rows.length < PAGE) break;
  }
  const last = expectedSeq - 1n;
  const beyond = [...external.values()].filter((a) => BigInt(a.seq) > last).sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
  if (beyond.length > 0) return unreached(beyond[0], `the chain ends at seq ${last}`);
  if (last.toString() !== result.headSeq) {
    return broken(last < BigInt(result.headSeq) ? last + 1n : last, `chain ends at ${last} but the head says ${result.headSeq}`);
  }
  if (prev !== result.headHash) return broken(last, 'last hash does not match the head');
  if (options.anchors) result.anchorsReached = [...external.values()].filter((a) => BigInt(a.seq) >= BigInt(result.anchorSeq)).length;
  return result;
}
