import { createHash } from 'node:crypto';

/** Trimmed, NFKC-normalised and lower-cased: case variants of one address share one index. */
export function canonicalEmail(email: string): string {
  return email.trim().normalize('NFKC').toLowerCase();
}

export type OtpContextValue = string | number | boolean | null;
/** A flat set of facts a code is bound to, such as `{ amount, payee }`. */
export type OtpContext = Record<string, OtpContextValue>;

/** JSON with keys sorted and numbers in their shortest form: equal contexts, equal text. */
export function canonicalJson(context: OtpContext): string {
  const keys = Object.keys(context).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(context[k])}`).join(',')}}`;
}

/** SHA-256 over the canonical JSON, domain-separated; `null` when no context is bound. */
export function contextHash(context: OtpContext | undefined | null): string | null {
  if (context === undefined || context === null) return null;
  return createHash('sha256').update('otp-context/v1\n').update(canonicalJson(context)).digest('base64url');
}
