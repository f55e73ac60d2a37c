import { types } from 'node:util';
import { CONTEXT_FIELD_NAME, type OtpContext } from '../crypto/canonical';
import { OtpConfigError } from '../core/otp.errors';
import type { OtpContextDisplay, OtpDisplayLabel } from '../core/purpose-options';

const LANGUAGE = /^[a-z]{2,3}$/;
// A caption is printed in a genuine mail: text only, no links, addresses or numbers to call.
const SAFE_LABEL = /^[\p{L} .,'()_-]{1,40}$/u;
const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/** One shown row of a mail's details. */
export interface DisplayedDetail {
  label: string;
  value: string;
}

function resolveLabel(at: string, label: unknown): OtpDisplayLabel | undefined {
  if (label === undefined) return undefined;
  if (typeof label === 'string') {
    if (!SAFE_LABEL.test(label)) throw new OtpConfigError(`${at}.label must be 1 to 40 letters, spaces or .,'()_-`);
    return label;
  }
  if (typeof label !== 'object' || label === null || Array.isArray(label)) {
    throw new OtpConfigError(`${at}.label must be a text or an object of texts by language ({ en: 'Amount' })`);
  }
  const out: Record<string, string> = {};
  for (const [lang, text] of Object.entries(label)) {
    if (!LANGUAGE.test(lang)) throw new OtpConfigError(`${at}.label: "${lang}" is not a language such as en or pt`);
    if (typeof text !== 'string' || !SAFE_LABEL.test(text)) throw new OtpConfigError(`${at}.label.${lang} must be 1 to 40 letters, spaces or .,'()_-`);
    out[lang] = text;
  }
  return Object.freeze(out);
}

/**
 * Checks a purpose's `display` declarations at start-up; the resolved identifier
 * patterns always match a whole value (`^(?:...)$`, without `g` or `y`).
 */
export function resolveContextDisplay(
  purpose: string,
  display: unknown,
  contextFields: Record<string, 'string' | 'number' | 'boolean'>,
): Record<string, OtpContextDisplay> {
  if (display === undefined) return Object.freeze({});
  const where = `purposes.${purpose}.display`;
  if (typeof display !== 'object' || display === null || Array.isArray(display)) {
    throw new OtpConfigError(`${where} must be an object of field declarations`);
  }
  const typed = Object.keys(contextFields).length > 0;
  const out: Record<string, OtpContextDisplay> = {};
  for (const [field, d] of Object.entries(display as Record<string, unknown>)) {
    const at = `${where}.${field}`;
    if (!CONTEXT_FIELD_NAME.test(field)) throw new OtpConfigError(`${at}: "${field}" is not a context field name`);
    if (typeof d !== 'object' || d === null) throw new OtpConfigError(`${at} must be { type: 'amount', currency } or { type: 'identifier', pattern }`);
    const { type, currency, pattern, label } = d as Record<string, unknown>;
    const fieldType = typed ? (Object.hasOwn(contextFields, field) ? contextFields[field] : undefined) : undefined;
    if (typed && !fieldType) throw new OtpConfigError(`${at}: "${field}" is not one of the purpose's contextFields`);
    if (type === 'amount') {
      if (typeof currency !== 'string' || !CURRENCIES.has(currency)) throw new OtpConfigError(`${at}.currency must be an ISO 4217 code such as EUR`);
      if (fieldType && fieldType !== 'number') throw new OtpConfigError(`${at}: an amount must be a number field`);
      out[field] = Object.freeze({ type, currency, label: resolveLabel(at, label) });
    } else if (type === 'identifier') {
      if (!types.isRegExp(pattern)) throw new OtpConfigError(`${at}.pattern must be a regular expression`);
      if (fieldType && fieldType !== 'string') throw new OtpConfigError(`${at}: an identifier must be a string field`);
      const whole = new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace(/[gy]/g, ''));
      out[field] = Object.freeze({ type, pattern: whole, label: resolveLabel(at, label) });
    } else {
      throw new OtpConfigError(`${at}.type must be 'amount' or 'identifier'`);
    }
  }
  return Object.freeze(out);
}

function labelFor(label: OtpDisplayLabel | undefined, lang: string, field: string): string {
  if (typeof label === 'string') return label;
  return (label && (Object.hasOwn(label, lang) ? label[lang] : label.en)) ?? field;
}

/**
 * The rows a mail shows: the declared fields only, in declaration order, each
 * rendered by its type. A value of another type, or an identifier outside its
 * pattern, is left out rather than printed.
 */
export function displayedDetails(
  display: Record<string, OtpContextDisplay>,
  context: OtpContext | undefined,
  lang: string,
  formatAmount: (value: number, currency: string) => string,
): DisplayedDetail[] {
  if (!context) return [];
  const rows: DisplayedDetail[] = [];
  for (const [field, d] of Object.entries(display)) {
    const value = Object.hasOwn(context, field) ? context[field] : undefined;
    let shown: string | undefined;
    if (d.type === 'amount' && typeof value === 'number' && Number.isFinite(value)) shown = formatAmount(value, d.currency);
    if (d.type === 'identifier' && typeof value === 'string' && d.pattern.test(value)) shown = value;
    if (shown !== undefined) rows.push({ label: labelFor(d.label, lang, field), value: shown });
  }
  return rows;
}
