/**
 * The SQL of the "limit" (bare NestJS route) and the "ceiling" (plain node:http +
 * pg): the same number of database round trips as the OTP routes, with no OTP
 * logic. Issue is one INSERT, verify one UPDATE ... RETURNING, as in
 * `OtpChallengeStore.supersedeAndInsert` / `attempt`.
 */
export const LIMIT_ISSUE_SQL = `INSERT INTO otp_challenges (id, recipient_index, purpose, code_digests,
    delivery_ciphertext, max_attempts, expires_at, resend_available_at)
  VALUES ($1, $2, 'login', ARRAY[$3::text], $4, 5, now() + interval '600 seconds', now() + interval '60 seconds')
  RETURNING expires_at, resend_available_at`;

export const LIMIT_VERIFY_SQL = `UPDATE otp_challenges SET attempts = attempts + 1, consumed_at = now(),
    delivery_ciphertext = NULL
  WHERE id = $1 AND consumed_at IS NULL AND expires_at > now()
  RETURNING id, purpose, consumed_at`;

/** Stand-ins of the same sizes as a real digest and delivery ciphertext. */
export const LIMIT_DIGEST = 'k1:' + 'A'.repeat(43);
export const LIMIT_CIPHERTEXT = 'e1:' + 'B'.repeat(220);

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** pg / TypeORM answer rows, or `[rows, count]` for UPDATE ... RETURNING. */
export function rowsOf(result: unknown): Record<string, unknown>[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') {
    return result[0] as Record<string, unknown>[];
  }
  return result as Record<string, unknown>[];
}
