import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Example app: each session records the `password_set_at` of its account when it was opened (null: no
 * password then), and is live only while the account's is still the same. A session that a sign-in
 * committed while a password change waited for the account row (so the change's revocation, reading its
 * own snapshot, did not see it) ends with the change all the same (R16). Existing sessions take their
 * account's current value: none ends by this migration.
 */
export class SessionPasswordGeneration1764097200000 implements MigrationInterface {
  name = 'SessionPasswordGeneration1764097200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE account_sessions ADD COLUMN password_set_at timestamptz`);
    await q.query(`UPDATE account_sessions s SET password_set_at = a.password_set_at FROM accounts a WHERE a.id = s.account_id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE account_sessions DROP COLUMN password_set_at`);
  }
}
