/** Caption of a context field in a mail: one text, or one per language (`{ en: 'Amount', de: 'Betrag' }`). */
export type OtpDisplayLabel = string | Record<string, string>;

/** How a mail shows one context field (see `OtpPurposeOptions.display`). */
export type OtpContextDisplay =
  | { type: 'amount'; /** ISO 4217 code, e.g. `EUR`. */ currency: string; label?: OtpDisplayLabel }
  | { type: 'identifier'; /** Anchored (`^...$`), without the `g` or `y` flag. */ pattern: RegExp; label?: OtpDisplayLabel };

/** How one purpose (a bucket of challenges such as `login`) behaves. */
export interface OtpPurposeOptions {
  /**
   * How long a challenge of this purpose stays valid, judged on the database clock.
   * Capped at 86 400 (24 h).
   * @default 600
   */
  ttlSeconds?: number;
  /**
   * Whether a challenge of this purpose must be bound to a context (for example
   * `{ amount, payee }` of a transfer). A code then only verifies with the same context.
   * @default false
   */
  requiresContext?: boolean;
  /**
   * The only fields a context of this purpose may carry, with their types; any other
   * field, or a value of another type, is refused (400). The context is printed in a
   * genuine mail, so string values are also limited to 64 letters, digits, spaces and
   * `.,'_-` (no `/`, `:` or `@`: no links or addresses an attacker could plant).
   * @default any flat context, string values limited as above
   */
  contextFields?: Record<string, 'string' | 'number' | 'boolean'>;
  /**
   * Who may start a challenge of this purpose. `'public'`: anyone, on the module's
   * issue route. `'host'`: only the host, with `OtpService.issue` from its own
   * (authenticated) route; the public route answers 400 `otp_purpose_unknown`, as
   * for an undeclared purpose. A context-bound mail ("approve this transfer") is
   * genuine mail from you: letting anyone choose its recipient and its words makes
   * it a phishing tool, so `'public'` with `requiresContext` is an explicit loosening.
   * @default 'host' when `requiresContext`, else 'public'
   */
  issue?: 'public' | 'host';
  /**
   * The context fields a mail of this purpose shows, each rendered by its type:
   * `{ type: 'amount', currency: 'EUR' }` (a number, formatted in the reader's
   * language with that ISO 4217 currency) or `{ type: 'identifier', pattern: /^...$/ }`
   * (a string, shown only when the whole value matches the anchored pattern).
   * `label` is the row's caption, one text or one per language (`{ en, de }`,
   * falling back to `en`, then to the field name). Any other field is never shown.
   * Checked at start-up.
   * @default {} (no context field is shown)
   */
  display?: Record<string, OtpContextDisplay>;
  /**
   * Allow `ttlSeconds` above 600 (up to 86 400). Codes should live at most ten minutes
   * (NIST SP 800-63B, checklist R6); a longer life is an explicit, named loosening.
   * @default false
   */
  allowLongTtl?: boolean;
}

/** One purpose after its defaults and checks (every field set), as `purposes` holds it once resolved. */
export type ResolvedOtpPurpose = Required<OtpPurposeOptions>;

/** The declared purposes, resolved: what a feature that checks a purpose reads of the module options. */
export interface ResolvedPurposeOptions {
  purposes: Record<string, ResolvedOtpPurpose>;
}
