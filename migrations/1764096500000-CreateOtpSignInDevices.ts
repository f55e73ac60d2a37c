import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * New-device sign-in notices (R19).
 *
 * - `otp_sign_in_devices`: the devices an address signed in from lately. A row holds the
 *   address's blind index (as every OTP table, so erasure and limits find it), a keyed
 *   digest of (blind index, browser family, OS family, IP network) and when it was last
 *   seen: never the address, the IP, the network or the user agent. Rows unseen for the
 *   remember period are purged.
 * - The outbox carries notices that concern no challenge: `challenge_id` may be NULL for
 *   the new kind `new-device-notice` only (a CHECK keeps code and budget mail bound to theirs).
 *
 * `down()` deletes the new-device notices still in the outbox and their gates (the old
 * schema cannot hold them), then restores the constraints.
 */
export class CreateOtpSignInDevices1764096500000 implements MigrationInterface {
  name = 'CreateOtpSignInDevices1764096500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE otp_sign_in_devices (
        recipient_index text NOT NULL,
        device_digest text NOT NULL,
        last_seen_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (recipient_index, device_digest)
      )`);
    await q.query(`CREATE INDEX otp_sign_in_devices_last_seen_idx ON otp_sign_in_devices (last_seen_at)`);
    await q.query(`ALTER TABLE otp_mail_outbox ALTER COLUMN challenge_id DROP NOT NULL`);
    await q.query(`ALTER TABLE otp_mail_outbox DROP CONSTRAINT otp_mail_outbox_kind_ck`);
    await q.query(`ALTER TABLE otp_mail_outbox ADD CONSTRAINT otp_mail_outbox_kind_ck
      CHECK (kind IN ('code', 'budget-notice', 'new-device-notice'))`);
    await q.query(`ALTER TABLE otp_mail_outbox ADD CONSTRAINT otp_mail_outbox_challenge_ck
      CHECK (challenge_id IS NOT NULL OR kind = 'new-device-notice')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE otp_mail_outbox DROP CONSTRAINT otp_mail_outbox_challenge_ck`);
    await q.query(`DELETE FROM otp_mail_outbox WHERE kind = 'new-device-notice'`);
    await q.query(`DELETE FROM otp_mail_notice_gates WHERE kind = 'new-device-notice'`);
    await q.query(`ALTER TABLE otp_mail_outbox DROP CONSTRAINT otp_mail_outbox_kind_ck`);
    await q.query(`ALTER TABLE otp_mail_outbox ADD CONSTRAINT otp_mail_outbox_kind_ck CHECK (kind IN ('code', 'budget-notice'))`);
    await q.query(`ALTER TABLE otp_mail_outbox ALTER COLUMN challenge_id SET NOT NULL`);
    await q.query(`DROP INDEX otp_sign_in_devices_last_seen_idx`);
    await q.query(`DROP TABLE otp_sign_in_devices`);
  }
}
