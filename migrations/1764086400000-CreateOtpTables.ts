import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Challenges and per-address failure budgets. No column holds a code or an
 * address in clear (see the entity docs). Reviewed by hand; `down` undoes `up`.
 */
export class CreateOtpTables1764086400000 implements MigrationInterface {
  name = 'CreateOtpTables1764086400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE otp_challenges (
        id uuid PRIMARY KEY,
        recipient_index text NOT NULL,
        purpose text NOT NULL,
        context_hash text,
        code_digests text[] NOT NULL,
        delivery_ciphertext text,
        attempts smallint NOT NULL DEFAULT 0,
        max_attempts smallint NOT NULL,
        resends smallint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        resend_available_at timestamptz NOT NULL,
        consumed_at timestamptz,
        superseded_at timestamptz,
        CONSTRAINT otp_challenges_attempts_ck CHECK (attempts >= 0 AND attempts <= max_attempts),
        CONSTRAINT otp_challenges_code_digests_ck CHECK (cardinality(code_digests) BETWEEN 1 AND 3)
      )`);
    // At most one live challenge per (address, purpose): supersession is enforced by the database.
    await q.query(`
      CREATE UNIQUE INDEX otp_challenges_live_uq ON otp_challenges (recipient_index, purpose)
      WHERE consumed_at IS NULL AND superseded_at IS NULL`);
    await q.query(`CREATE INDEX otp_challenges_expires_at_idx ON otp_challenges (expires_at)`);
    await q.query(`
      CREATE TABLE otp_failure_budgets (
        recipient_index text PRIMARY KEY,
        window_started_at timestamptz NOT NULL,
        failures integer NOT NULL,
        CONSTRAINT otp_failure_budgets_failures_ck CHECK (failures >= 0)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE otp_failure_budgets`);
    await q.query(`DROP INDEX otp_challenges_expires_at_idx`);
    await q.query(`DROP INDEX otp_challenges_live_uq`);
    await q.query(`DROP TABLE otp_challenges`);
  }
}
