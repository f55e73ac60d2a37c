import { randomBytesPooled } from '../crypto/random-pool';
import { canonicalJson } from '../crypto/canonical';
import { sha256 } from '../crypto/sha256';
import { isoTime } from '../core/iso-time';

/** `prev_hash` of the first row ever written (and of the anchor before any purge). */
export const GENESIS_HASH = '0'.repeat(64);

/** Detail values an audit row may hold. */
export type AuditDetail = Record<string, string | number | boolean | null>;

/** The part of a row covered by the chain hash (everything except the erasable personal fields). */
export interface ChainedContent {
  at: Date;
  event: string;
  owasp: string | null;
  outcome: string;
  challengeId: string | null;
  purpose: string | null;
  requestId: string | null;
  detail: AuditDetail | null;
  /** Salted commitment to the personal fields, or null when the row has none. */
  subjectCommitment: string | null;
  /**
   * Version of the hashed body: 1 (before the link commitment) or 2 (default for new rows,
   * covers `linkCommitment`).
   */
  version?: 1 | 2;
  /**
   * Version 2: salted commitment to recipient index, user agent and IP network, under its own
   * salt that IP truncation keeps (so those stay bound) and erasure drops.
   */
  linkCommitment?: string | null;
}

/** The event fields of a stored `otp_audit_log` row (its columns), as the chain and the query API read them. */
export function auditEventOf(r: Record<string, unknown>): Omit<ChainedContent, 'subjectCommitment' | 'version' | 'linkCommitment'> {
  return {
    at: r.at as Date,
    event: r.event as string,
    owasp: (r.owasp as string) ?? null,
    outcome: r.outcome as string,
    challengeId: (r.challenge_id as string) ?? null,
    purpose: (r.purpose as string) ?? null,
    requestId: (r.request_id as string) ?? null,
    detail: (r.detail as AuditDetail) ?? null,
  };
}

/** Personal fields: kept outside the hashed content so erasure can drop them (GDPR Art 17). */
export interface PersonalFields {
  recipientIndex: string | null;
  ip: string | null;
  userAgent: string | null;
}

/**
 * The canonical text of the hashed content (without seq; the hash input adds it). Version 2
 * starts with `"v2"` (never a time, so no version 1 body equals it) and adds the link commitment.
 */
export function canonicalBody(c: ChainedContent): string {
  const fields = [
    isoTime(c.at),
    c.event,
    c.owasp,
    c.outcome,
    c.challengeId,
    c.purpose,
    c.requestId,
    c.detail === null ? null : canonicalJson(c.detail),
    c.subjectCommitment,
  ];
  // Texts and nulls only (the detail is already its canonical text): JSON.stringify writes them as canonicalJson does.
  return JSON.stringify((c.version ?? 2) === 2 ? ['v2', ...fields, c.linkCommitment ?? null] : fields);
}

/** The canonical body of a stored row, rebuilt from its columns (as the verifier reads them). */
export function storedBody(r: Record<string, unknown>): string {
  return canonicalBody({
    ...auditEventOf(r),
    subjectCommitment: (r.subject_commitment as string) ?? null,
    version: Number(r.body_version) === 2 ? 2 : 1,
    linkCommitment: (r.link_commitment as string) ?? null,
  });
}

/**
 * `hash = SHA-256(prev_hash ‖ "\n" ‖ seq ‖ "\n" ‖ body)`, hex. The database
 * computes the same with `sha256(convert_to(...))` when it appends (one statement).
 */
export function chainHash(prevHash: string, seq: string, body: string): string {
  return sha256(`${prevHash}\n${seq}\n${body}`, 'hex');
}

/**
 * The bytes a commitment hashes: the salt's 16 bytes, then each field as a presence byte (0 for
 * null), its UTF-8 length (4 bytes, big-endian) and its UTF-8 bytes. Built in one buffer.
 */
function committedBytes(salt: string, fields: (string | null)[]): Buffer {
  let size = Math.ceil((salt.length * 3) / 4);
  for (const f of fields) size += 5 + (f === null ? 0 : Buffer.byteLength(f, 'utf8'));
  const out = Buffer.allocUnsafe(size);
  let at = out.write(salt, 0, 'base64');
  for (const f of fields) {
    const length = f === null ? 0 : out.write(f, at + 5, 'utf8');
    out[at] = f === null ? 0 : 1;
    out.writeUInt32BE(length, at + 1);
    at += 5 + length;
  }
  return out.subarray(0, at);
}

/**
 * Commitment to the personal fields under a random per-row salt. The chain covers the
 * commitment; the salt and the fields sit outside it. Erasure nulls the salt with the
 * fields: the commitment left behind can no longer be tested against any address
 * (the salt is gone), and the chain still verifies.
 */
export function commitPersonal(p: PersonalFields, salt: string): string {
  return sha256(committedBytes(salt, [p.recipientIndex, p.ip, p.userAgent]), 'hex');
}

/** What the link commitment binds: all a row keeps of its subject after IP truncation. */
export interface LinkFields {
  recipientIndex: string | null;
  userAgent: string | null;
  /** The IP's network (IPv4 /24, IPv6 /48), as IP truncation leaves it. */
  ipNetwork: string | null;
}

/**
 * Commitment of version 2 rows to recipient index, user agent and IP network, under its own
 * salt. IP truncation drops the personal salt with the exact IP but keeps this one, so what is
 * left stays bound; erasure drops both.
 */
export function commitLink(p: LinkFields, salt: string): string {
  return sha256(committedBytes(salt, ['link', p.recipientIndex, p.userAgent, p.ipNetwork]), 'hex');
}

/** Digest of the seqs an erasure emptied (ascending, comma-separated), recorded in its `audit.erased` event. */
export function erasureDigest(seqs: string[]): string {
  return sha256(seqs.join(','), 'hex');
}

export function newSalt(): string {
  return randomBytesPooled(16).toString('base64');
}

/** Control characters, and surrogates without their other half (from the input, or cut in two by the cap). */
const UNSAFE = /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * CR, LF and other control characters are encoded, never stored raw (log injection, R39). A lone
 * surrogate becomes U+FFFD, as PostgreSQL's UTF-8 text would store it: the hashed body and the
 * stored columns the verifier rebuilds it from hold the same text (R40).
 */
export function encodeControl(value: string, max = 256): string {
  return value.slice(0, max).replace(UNSAFE, (ch) => {
    if (ch === '\r') return '\\r';
    if (ch === '\n') return '\\n';
    const code = ch.charCodeAt(0);
    if (code >= 0xd800) return '\ufffd';
    return `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

const SECRET_KEY = /code|token|secret|password|passwd|key|email|address|cookie|authorization/i;
const SAFE_KEYS = new Set(['maxAttempts', 'attempt', 'budgetFailures', 'maxFailures', 'reason', 'status', 'error']);

/**
 * Keeps detail small and harmless: scalar values only, secret-looking keys dropped,
 * anything that looks like an address replaced, strings encoded and shortened.
 */
export function sanitizeDetail(detail: Record<string, unknown> | undefined): AuditDetail | null {
  if (!detail) return null;
  const out: AuditDetail = {};
  let n = 0;
  for (const [k, v] of Object.entries(detail)) {
    if (n >= 16) break;
    if (!SAFE_KEYS.has(k) && SECRET_KEY.test(k)) continue;
    const key = encodeControl(k, 64);
    if (v === null || typeof v === 'boolean') out[key] = v;
    else if (typeof v === 'number') out[key] = Number.isFinite(v) ? v : null;
    else if (typeof v === 'string') out[key] = v.includes('@') ? '[redacted]' : encodeControl(v, 200);
    else continue;
    n++;
  }
  return n === 0 ? null : out;
}
