import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The transactional outbox of OTP mail, and the per-address gate of security
 * notices. A row is written in the same statement as its challenge; its payload
 * (recipient, code, render context) is AES-256-GCM encrypted and must be NULL
 * once the row is delivered or abandoned (enforced by a CHECK). Inserts notify
 * `otp_mail_outbox` so dispatchers listening on it wake at once.
 */
export class CreateOtpMailOutbox1764090000000 implements MigrationInterface {
  name = 'CreateOtpMailOutbox1764090000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE otp_mail_outbox (
        id uuid PRIMARY KEY,
        challenge_id uuid NOT NULL REFERENCES otp_challenges (id) ON DELETE CASCADE,
        kind text NOT NULL,
        purpose text NOT NULL,
        recipient_index text NOT NULL,
        payload_ciphertext text,
        status text NOT NULL DEFAULT 'pending',
        attempts smallint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        deadline_at timestamptz NOT NULL,
        claimed_until timestamptz,
        claimed_by text,
        finished_at timestamptz,
        server_message_id text,
        server_response text,
        last_error text,
        CONSTRAINT otp_mail_outbox_kind_ck CHECK (kind IN ('code', 'budget-notice')),
        CONSTRAINT otp_mail_outbox_status_ck CHECK (status IN ('pending', 'delivered', 'abandoned')),
        CONSTRAINT otp_mail_outbox_wiped_ck CHECK (status = 'pending' OR payload_ciphertext IS NULL)
      )`);
    await q.query(`CREATE INDEX otp_mail_outbox_due_idx ON otp_mail_outbox (next_attempt_at) WHERE status = 'pending'`);
    await q.query(`CREATE INDEX otp_mail_outbox_challenge_idx ON otp_mail_outbox (challenge_id)`);
    await q.query(`
      CREATE TABLE otp_mail_notice_gates (
        recipient_index text NOT NULL,
        kind text NOT NULL,
        last_queued_at timestamptz NOT NULL,
        PRIMARY KEY (recipient_index, kind)
      )`);
    await q.query(`
      CREATE FUNCTION otp_mail_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('otp_mail_outbox', '');
        RETURN NULL;
      END
      $$`);
    await q.query(`
      CREATE TRIGGER otp_mail_outbox_notify AFTER INSERT ON otp_mail_outbox
      FOR EACH STATEMENT EXECUTE FUNCTION otp_mail_outbox_notify()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER otp_mail_outbox_notify ON otp_mail_outbox`);
    await q.query(`DROP FUNCTION otp_mail_outbox_notify()`);
    await q.query(`DROP TABLE otp_mail_notice_gates`);
    await q.query(`DROP INDEX otp_mail_outbox_challenge_idx`);
    await q.query(`DROP INDEX otp_mail_outbox_due_idx`);
    await q.query(`DROP TABLE otp_mail_outbox`);
  }
}
