import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Example app: accounts and their sessions. Passwords are stored only as scrypt
 * hashes, session tokens only as SHA-256 (they are 256 random bits).
 */
export class CreateAccounts1764091100000 implements MigrationInterface {
  name = 'CreateAccounts1764091100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE accounts (
        id uuid PRIMARY KEY,
        email text NOT NULL,
        password_hash text,
        password_set_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Addresses are stored canonical (trimmed, NFKC, lower-case): one account per mailbox.
    await q.query(`CREATE UNIQUE INDEX accounts_email_uq ON accounts (email)`);
    await q.query(`
      CREATE TABLE account_sessions (
        token_hash text PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        amr text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz
      )`);
    await q.query(`CREATE INDEX account_sessions_account_idx ON account_sessions (account_id)`);
    await q.query(`CREATE INDEX account_sessions_expires_at_idx ON account_sessions (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX account_sessions_expires_at_idx`);
    await q.query(`DROP INDEX account_sessions_account_idx`);
    await q.query(`DROP TABLE account_sessions`);
    await q.query(`DROP INDEX accounts_email_uq`);
    await q.query(`DROP TABLE accounts`);
  }
}
