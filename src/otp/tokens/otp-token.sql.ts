/**
 * Statements on `otp_tokens`, owned by `OtpTokenStore`. The verify statement mints its
 * token by composing `mintTokenOfConsumed` (persistence/otp-shared-inserts.sql.ts), so a
 * right code and its proof are one write.
 */

export const INSERT_TOKEN = `INSERT INTO otp_tokens (token_hash, challenge_id, purpose, context_hash, recipient_index, amr, verified_at, expires_at)
   VALUES ($1, $2, $3, $4, $5, $6::text[], $7, now() + make_interval(secs => $8))
   RETURNING expires_at`;

/**
 * Redeems a batch of tokens, each of another hash (`$1`, one element per redemption): marks each
 * live one redeemed and returns it; for one not redeemed, the same snapshot's `miss` tells why.
 * One row per element, in their order. Each token's row is reached by its key (`= ANY`), never by a join
 * the planner could run as a scan of the table.
 */
export const REDEEM_TOKENS = `WITH input AS (
     SELECT * FROM unnest($1::text[]) WITH ORDINALITY AS i(token_hash, ord)
   ), hit AS (
     UPDATE otp_tokens t SET redeemed_at = now()
     WHERE t.token_hash = ANY($1::text[]) AND t.redeemed_at IS NULL AND t.expires_at > now()
     RETURNING t.token_hash, t.challenge_id, t.purpose, t.context_hash, t.recipient_index, t.amr, t.verified_at, t.expires_at, t.redeemed_at
   )
   SELECT i.ord, h.challenge_id, h.purpose, h.context_hash, h.recipient_index, h.amr, h.verified_at, h.expires_at, h.redeemed_at,
     p.challenge_id AS prior_challenge_id,
     CASE WHEN p.token_hash IS NULL THEN 'unknown' WHEN p.redeemed_at IS NOT NULL THEN 'reused'
       WHEN p.expires_at <= now() THEN 'expired' ELSE 'reused' END AS miss
   FROM input i
   LEFT JOIN hit h ON h.token_hash = i.token_hash
   LEFT JOIN (SELECT * FROM otp_tokens WHERE token_hash = ANY($1::text[])) p ON p.token_hash = i.token_hash
   ORDER BY i.ord`;
