import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Proof tokens handed out by a successful verify. Only the SHA-256 of each
 * token is stored (the token is 256 random bits, so an unkeyed hash cannot be
 * searched); no address, only the recipient's keyed blind index.
 */
export class CreateOtpTokens1764091000000 implements MigrationInterface {
  name = 'CreateOtpTokens1764091000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE otp_tokens (
        token_hash text PRIMARY KEY,
        challenge_id uuid NOT NULL,
        purpose text NOT NULL,
        context_hash text,
        recipient_index text NOT NULL,
        amr text[] NOT NULL,
        verified_at timestamptz NOT NULL,
        issued_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        redeemed_at timestamptz,
        CONSTRAINT otp_tokens_expiry_ck CHECK (expires_at > issued_at)
      )`);
    // One token per verified challenge: a consumed challenge cannot mint a second proof.
    await q.query(`CREATE UNIQUE INDEX otp_tokens_challenge_uq ON otp_tokens (challenge_id)`);
    await q.query(`CREATE INDEX otp_tokens_expires_at_idx ON otp_tokens (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX otp_tokens_expires_at_idx`);
    await q.query(`DROP INDEX otp_tokens_challenge_uq`);
    await q.query(`DROP TABLE otp_tokens`);
  }
}
