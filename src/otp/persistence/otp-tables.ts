/**
 * Every table the module's migrations create, and what erasure (R30), invalidate-all (R29)
 * and retention (R8, R42) do with it. Maintenance reads this list instead of the schema:
 * a host table is never touched because of a column name. A migration that adds a table
 * adds it here (a test compares this list with the migrated schema).
 */
export interface OtpTable {
  name: string;
  /**
   * Erasure: `rows` deletes the subject's rows (by `recipient_index`); `audit` leaves
   * them to the audit functions (hashed content stays, personal fields go); `none`
   * when the table holds nothing linkable to an address.
   */
  erasure: 'rows' | 'audit' | 'none';
  /**
   * Invalidate-all: `own` by its owner store's statement (challenges), `expire` moves
   * `expires_at` to now on rows whose `usedColumn` is NULL, `none` for no live state.
   */
  invalidation: 'own' | { expire: { usedColumn: string } } | 'none';
  /**
   * Retention: `own` by its owner store's rule, `audit` by the audit functions, `ended`
   * deletes rows whose earliest set end column is past the spent-row period, `keep` never.
   */
  retention: 'own' | 'audit' | { ended: readonly string[] } | 'keep';
}

export const OTP_TABLES: readonly OtpTable[] = Object.freeze([
  { name: 'otp_audit_anchor', erasure: 'none', invalidation: 'none', retention: 'audit' },
  { name: 'otp_audit_batch', erasure: 'none', invalidation: 'none', retention: 'own' },
  { name: 'otp_audit_head', erasure: 'none', invalidation: 'none', retention: 'audit' },
  { name: 'otp_audit_log', erasure: 'audit', invalidation: 'none', retention: 'audit' },
  { name: 'otp_audit_policy', erasure: 'none', invalidation: 'none', retention: 'keep' },
  { name: 'otp_challenges', erasure: 'rows', invalidation: 'own', retention: 'own' },
  { name: 'otp_failure_budgets', erasure: 'rows', invalidation: 'none', retention: 'own' },
  { name: 'otp_key_fingerprints', erasure: 'none', invalidation: 'none', retention: 'keep' },
  { name: 'otp_mail_notice_gates', erasure: 'rows', invalidation: 'none', retention: { ended: ['last_queued_at'] } },
  { name: 'otp_mail_outbox', erasure: 'rows', invalidation: 'none', retention: { ended: ['finished_at'] } },
  { name: 'otp_sign_in_devices', erasure: 'rows', invalidation: 'none', retention: 'own' },
  { name: 'otp_tokens', erasure: 'rows', invalidation: { expire: { usedColumn: 'redeemed_at' } }, retention: { ended: ['redeemed_at', 'expires_at'] } },
] as const satisfies readonly OtpTable[]);

/** The module's table names. */
export const OTP_TABLE_NAMES: readonly string[] = OTP_TABLES.map((t) => t.name);
