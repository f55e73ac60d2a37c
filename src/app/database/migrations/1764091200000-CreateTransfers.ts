import { MigrationInterface, QueryRunner } from 'typeorm';

/** Example app: transfers, each approved by one OTP challenge. */
export class CreateTransfers1764091200000 implements MigrationInterface {
  name = 'CreateTransfers1764091200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE transfers (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        amount numeric(14, 2) NOT NULL CHECK (amount > 0),
        payee text NOT NULL,
        otp_challenge_id uuid NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One transfer per approval, even if a proof were ever presented twice.
    await q.query(`CREATE UNIQUE INDEX transfers_otp_challenge_uq ON transfers (otp_challenge_id)`);
    await q.query(`CREATE INDEX transfers_account_idx ON transfers (account_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX transfers_account_idx`);
    await q.query(`DROP INDEX transfers_otp_challenge_uq`);
    await q.query(`DROP TABLE transfers`);
  }
}
