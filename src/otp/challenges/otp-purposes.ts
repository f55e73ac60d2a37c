import type { ResolvedOtpPurpose, ResolvedPurposeOptions } from '../core/purpose-options';

/** The rules of a declared purpose; undefined for anything else ('constructor' and '__proto__' included). */
export function declaredPurpose(options: ResolvedPurposeOptions, name: string): ResolvedOtpPurpose | undefined {
  return Object.hasOwn(options.purposes, name) ? options.purposes[name] : undefined;
}

/** A purpose anyone may start on the public issue route; undefined for host purposes, as for undeclared ones. */
export function publicPurpose(options: ResolvedPurposeOptions, name: string): ResolvedOtpPurpose | undefined {
  const rules = declaredPurpose(options, name);
  return rules?.issue === 'public' ? rules : undefined;
}

const SAFE_CONTEXT_TEXT = /^[\p{L}\p{N} .,'_-]{0,64}$/u;

/**
 * Why a context does not fit a purpose, or undefined when it does: declared
 * fields only (when declared), their types, and text safe to print in a mail.
 */
export function contextProblem(rules: ResolvedOtpPurpose, context: Record<string, unknown>): string | undefined {
  const declared = Object.keys(rules.contextFields);
  for (const [key, value] of Object.entries(context)) {
    if (declared.length > 0) {
      const type = Object.hasOwn(rules.contextFields, key) ? rules.contextFields[key] : undefined;
      if (!type) return `field "${key}" is not part of this purpose's context`;
      if (typeof value !== type) return `field "${key}" must be a ${type}`;
    }
    if (typeof value === 'string' && !SAFE_CONTEXT_TEXT.test(value)) {
      return `field "${key}" must be at most 64 letters, digits, spaces or .,'_-`;
    }
  }
  for (const key of declared) if (!Object.hasOwn(context, key)) return `field "${key}" is required`;
  return undefined;
}
