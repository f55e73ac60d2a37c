import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The tamper-evident audit trail (R39, R40, R42).
 *
 * - `otp_audit_log`: append-only rows; `hash = SHA-256(prev_hash ‖ seq ‖ canonical content)`.
 *   Personal fields (`recipient_index`, `ip`, `user_agent`) sit outside the hashed content
 *   and are bound to it by a salted commitment, so erasure can drop them (with the salt)
 *   and the chain still verifies.
 * - `otp_audit_head`: one row, the chain's last seq and hash; appends lock it, which
 *   serialises writers across processes.
 * - `otp_audit_anchor`: one row, the last purged seq and hash; verification starts there.
 * - `otp_audit_purge_before()` / `otp_audit_erase_subject()`: SECURITY DEFINER functions,
 *   the only ways the app role can remove anything (retention, erasure).
 * - `otp_audit_grant_app_role(role)`: gives an app role INSERT and SELECT on the log only.
 */
export class CreateOtpAuditLog1764092000000 implements MigrationInterface {
  name = 'CreateOtpAuditLog1764092000000';

  async up(q: QueryRunner): Promise<void> {
    const [{ schema }] = await q.query(`SELECT current_schema() AS schema`);
    const path = `pg_catalog, "${String(schema).replace(/"/g, '""')}"`;
    await q.query(`
      CREATE TABLE otp_audit_log (
        seq bigint PRIMARY KEY,
        at timestamptz NOT NULL,
        event text NOT NULL,
        owasp text,
        outcome text NOT NULL,
        challenge_id text,
        purpose text,
        request_id text,
        detail jsonb,
        subject_commitment text,
        recipient_index text,
        ip text,
        user_agent text,
        pii_salt text,
        prev_hash text NOT NULL,
        hash text NOT NULL
      )`);
    await q.query(`CREATE INDEX otp_audit_log_recipient_idx ON otp_audit_log (recipient_index) WHERE recipient_index IS NOT NULL`);
    await q.query(`CREATE INDEX otp_audit_log_ip_idx ON otp_audit_log (ip) WHERE ip IS NOT NULL`);
    await q.query(`CREATE INDEX otp_audit_log_challenge_idx ON otp_audit_log (challenge_id) WHERE challenge_id IS NOT NULL`);
    await q.query(`CREATE INDEX otp_audit_log_at_idx ON otp_audit_log (at)`);
    await q.query(`
      CREATE TABLE otp_audit_head (
        id smallint PRIMARY KEY CHECK (id = 1),
        seq bigint NOT NULL,
        hash text NOT NULL
      )`);
    await q.query(`INSERT INTO otp_audit_head (id, seq, hash) VALUES (1, 0, repeat('0', 64))`);
    await q.query(`
      CREATE TABLE otp_audit_anchor (
        id smallint PRIMARY KEY CHECK (id = 1),
        seq bigint NOT NULL,
        hash text NOT NULL,
        purged_at timestamptz
      )`);
    await q.query(`INSERT INTO otp_audit_anchor (id, seq, hash) VALUES (1, 0, repeat('0', 64))`);
    // Retention: deletes a prefix of the chain and records its last hash as the anchor,
    // under the head lock so no append interleaves.
    await q.query(`
      CREATE FUNCTION otp_audit_purge_before(cutoff timestamptz) RETURNS bigint
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${path} AS $fn$
      DECLARE last_seq bigint; last_hash text; n bigint;
      BEGIN
        PERFORM 1 FROM otp_audit_head WHERE id = 1 FOR UPDATE;
        SELECT l.seq, l.hash INTO last_seq, last_hash FROM otp_audit_log l
          WHERE l.seq = (SELECT max(seq) FROM otp_audit_log WHERE at < cutoff);
        IF last_seq IS NULL THEN RETURN 0; END IF;
        DELETE FROM otp_audit_log WHERE seq <= last_seq;
        GET DIAGNOSTICS n = ROW_COUNT;
        UPDATE otp_audit_anchor SET seq = last_seq, hash = last_hash, purged_at = now() WHERE id = 1;
        RETURN n;
      END $fn$`);
    // Erasure: drops the personal fields and the salt of a subject's rows; the hashed
    // content (with the now untestable commitment) stays, so the chain still verifies.
    await q.query(`
      CREATE FUNCTION otp_audit_erase_subject(subject text) RETURNS bigint
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${path} AS $fn$
      DECLARE n bigint;
      BEGIN
        UPDATE otp_audit_log SET recipient_index = NULL, ip = NULL, user_agent = NULL, pii_salt = NULL
          WHERE recipient_index = subject;
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
      END $fn$`);
    await q.query(`REVOKE ALL ON FUNCTION otp_audit_purge_before(timestamptz) FROM PUBLIC`);
    await q.query(`REVOKE ALL ON FUNCTION otp_audit_erase_subject(text) FROM PUBLIC`);
    // For DBAs: SELECT otp_audit_grant_app_role('otp_app');
    await q.query(`
      CREATE FUNCTION otp_audit_grant_app_role(app_role name) RETURNS void
      LANGUAGE plpgsql SET search_path = ${path} AS $fn$
      BEGIN
        EXECUTE format('REVOKE ALL ON otp_audit_log, otp_audit_head, otp_audit_anchor FROM %I', app_role);
        EXECUTE format('GRANT SELECT, INSERT ON otp_audit_log TO %I', app_role);
        EXECUTE format('GRANT SELECT, UPDATE ON otp_audit_head TO %I', app_role);
        EXECUTE format('GRANT SELECT ON otp_audit_anchor TO %I', app_role);
        EXECUTE format('GRANT EXECUTE ON FUNCTION otp_audit_purge_before(timestamptz), otp_audit_erase_subject(text) TO %I', app_role);
      END $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION otp_audit_grant_app_role(name)`);
    await q.query(`DROP FUNCTION otp_audit_erase_subject(text)`);
    await q.query(`DROP FUNCTION otp_audit_purge_before(timestamptz)`);
    await q.query(`DROP TABLE otp_audit_anchor`);
    await q.query(`DROP TABLE otp_audit_head`);
    await q.query(`DROP INDEX otp_audit_log_at_idx`);
    await q.query(`DROP INDEX otp_audit_log_challenge_idx`);
    await q.query(`DROP INDEX otp_audit_log_ip_idx`);
    await q.query(`DROP INDEX otp_audit_log_recipient_idx`);
    await q.query(`DROP TABLE otp_audit_log`);
  }
}
