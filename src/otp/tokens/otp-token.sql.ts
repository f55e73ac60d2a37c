/**
 * Statements on `otp_tokens`, owned by `OtpTokenStore`. The verify statement mints its
 * token by composing `mintTokenOfConsumed` (persistence/otp-shared-inserts.sql.ts), so a
 * right code and its proof are one write.
 */

export const INSERT_TOKEN = `INSERT INTO otp_tokens (token_hash, challenge_id, purpose, context_hash, recipient_index, amr, verified_at, expires_at)
   VALUES ($1, $2, $3, $4, $5, $6::text[], $7, now() + make_interval(secs => $8))
   RETURNING expires_at`;

/**
 * Marks a live token redeemed and returns it; when nothing was redeemed, the same
 * snapshot's `miss` tells why.
 */
export const REDEEM_TOKEN = `WITH hit AS (
     UPDATE otp_tokens SET redeemed_at = now()
     WHERE token_hash = $1 AND redeemed_at IS NULL AND expires_at > now()
     RETURNING challenge_id, purpose, context_hash, recipient_index, amr, verified_at, expires_at, redeemed_at
   )
   SELECT h.*, p.challenge_id AS prior_challenge_id,
     CASE WHEN p.token_hash IS NULL THEN 'unknown' WHEN p.redeemed_at IS NOT NULL THEN 'reused'
       WHEN p.expires_at <= now() THEN 'expired' ELSE 'reused' END AS miss
   FROM (SELECT 1) AS one
   LEFT JOIN hit h ON true
   LEFT JOIN otp_tokens p ON p.token_hash = $1`;
