import { domainToASCII } from 'node:url';
import { OtpEmailInvalidError } from '../core/otp.errors';
import type { OtpContext, OtpContextValue } from '../core/otp.types';
import { sha256 } from './sha256';

// RFC 5322 atext, plus the non-ASCII characters RFC 6532 (SMTPUTF8) adds, minus every
// control, format, separator, unassigned and private-use character.
const ATEXT = String.raw`[A-Za-z0-9!#$%&'*+\-/=?^_\x60{|}~]|[^\x00-\x7f\p{C}\p{Z}]`;
const DOT_ATOM = new RegExp(`^(?:${ATEXT})+(?:\\.(?:${ATEXT})+)*$`, 'u');
/** Characters that can never be part of an address, wherever they stand. */
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;
/** What a domain may be spelled with before IDNA: letters, marks, digits, hyphens and full stops. */
const DOMAIN_INPUT = /^[\p{L}\p{M}\p{N}\-.\u3002\uff0e\uff61]+$/u;
const LDH_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * A quoted local part, unquoted: `"vic\tim"` -> `victim`. Undefined unless the whole
 * value is one quoted-string (quotes glued to an atom are read differently by
 * different parsers: nodemailer takes `a"b"` as the name `a` and the address `b`).
 */
function unquote(local: string): string | undefined {
  if (!local.startsWith('"')) return local;
  let out = '';
  for (let i = 1; i < local.length; i++) {
    const ch = local[i];
    if (ch === '\\') {
      if (i + 1 >= local.length) return undefined;
      out += local[++i];
    } else if (ch === '"') {
      return i === local.length - 1 ? out : undefined;
    } else {
      out += ch;
    }
  }
  return undefined;
}

/** The domain as its A-label (what the transport looks up), or undefined when it is not a hostname. */
function canonicalDomain(domain: string): string | undefined {
  if (!DOMAIN_INPUT.test(domain)) return undefined;
  let ascii = domainToASCII(domain);
  // A trailing dot names the same (absolute) domain.
  if (ascii.endsWith('.')) ascii = ascii.slice(0, -1);
  if (ascii === '' || ascii.length > 253) return undefined;
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((l) => LDH_LABEL.test(l))) return undefined;
  // A numeric last label is an IPv4 address to a URL parser (`0x7f.1` is 127.0.0.1), never a TLD.
  if (!/[a-z]/.test(labels[labels.length - 1])) return undefined;
  return ascii;
}

/**
 * The one spelling of an address that every spelling of its mailbox shares, or
 * undefined when there is no such spelling: NFKC, then the domain as its lower-case
 * A-label without a trailing dot, and the local part unquoted when its content is a
 * dot-atom, then lower-cased. Refused: controls (CR/LF), zero-width and other
 * default-ignorable characters, quoted local parts that are not dot-atoms,
 * comments, display names, domain literals and IP addresses.
 */
export function tryCanonicalEmail(email: unknown): string | undefined {
  if (typeof email !== 'string' || email.length > 1024 || FORBIDDEN.test(email)) return undefined;
  const s = email.normalize('NFKC').trim();
  if (FORBIDDEN.test(s)) return undefined;
  const at = s.lastIndexOf('@');
  if (at <= 0) return undefined;
  const local = unquote(s.slice(0, at));
  if (local === undefined || !DOT_ATOM.test(local)) return undefined;
  const domain = canonicalDomain(s.slice(at + 1));
  if (domain === undefined) return undefined;
  const lower = local.toLowerCase().normalize('NFKC');
  if (!DOT_ATOM.test(lower) || utf8Length(lower) > 64) return undefined;
  const address = `${lower}@${domain}`;
  return utf8Length(address) > 254 ? undefined : address;
}

/**
 * `tryCanonicalEmail`, throwing `OtpEmailInvalidError` (400) for an address that has
 * no canonical form. The blind index, every per-recipient limit and the mailed
 * address are all built on this form: what is limited is what is delivered.
 */
export function canonicalEmail(email: string): string {
  const canonical = tryCanonicalEmail(email);
  if (canonical === undefined) throw new OtpEmailInvalidError();
  return canonical;
}

export type { OtpContext, OtpContextValue } from '../core/otp.types';

/** At most this many fields in a context. */
export const MAX_CONTEXT_KEYS = 16;
/** At most this many characters in a context's text value. */
export const MAX_CONTEXT_STRING = 256;
/** What a context field may be called (also what a purpose's `display` may name). */
export const CONTEXT_FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

function isContextValue(v: unknown): v is OtpContextValue {
  return v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)) ||
    (typeof v === 'string' && v.length <= MAX_CONTEXT_STRING && !/[\u0000-\u001f\u007f]/.test(v));
}

/** A flat object of 1 to 16 named scalars (texts up to 256 characters, no control characters): what a code can be bound to. */
export function isOtpContext(value: unknown): value is OtpContext {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  return entries.length > 0 && entries.length <= MAX_CONTEXT_KEYS && entries.every(([k, v]) => CONTEXT_FIELD_NAME.test(k) && isContextValue(v));
}

/** JSON with keys sorted at every level and numbers in their shortest form: equal values, equal text (a jsonb round trip too). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value as object)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

/** SHA-256 over the canonical JSON, domain-separated; `null` when no context is bound. */
export function contextHash(context: OtpContext | undefined | null): string | null {
  if (context === undefined || context === null) return null;
  return sha256(`otp-context/v1\n${canonicalJson(context)}`, 'base64url');
}
