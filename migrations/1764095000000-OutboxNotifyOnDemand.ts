import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drops the per-insert NOTIFY trigger of the mail outbox. NOTIFY takes a
 * database-wide lock at commit, so a trigger on every insert serialised all
 * issuing transactions (Lock:object waits under load). Instances with a dispatcher
 * now wake it in-process; only writer-only instances (`MAIL_DISPATCHER=false`)
 * send a NOTIFY themselves (`OtpMailDispatcher.mailWritten`).
 */
export class OutboxNotifyOnDemand1764095000000 implements MigrationInterface {
  name = 'OutboxNotifyOnDemand1764095000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER otp_mail_outbox_notify ON otp_mail_outbox`);
    await q.query(`DROP FUNCTION otp_mail_outbox_notify()`);
  }

  async down(q: QueryRunner): Promise<void> {
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
}
