import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Limits what the app role can remove from the audit trail through the SECURITY
 * DEFINER functions (R40): a compromised app must not be able to purge the trail
 * (or strip its commitments) by passing a cutoff in the future, or by appending a
 * row with a forged old `at` at the end of the chain.
 *
 * - `otp_audit_policy`: one row, owned by the DBA (the app role gets no grant):
 *   `min_retention` (default 30 days) and `min_ip_window` (default 1 day). The
 *   functions clamp their cutoff to `now() - floor`.
 * - Retention deletes only the chain's prefix of rows ALL older than the cutoff: it
 *   stops at the first row that is not, so a forged old row at the end purges nothing.
 */
export class AuditRemovalFloor1764094000000 implements MigrationInterface {
  name = 'AuditRemovalFloor1764094000000';

  async up(q: QueryRunner): Promise<void> {
    const path = await searchPath(q);
    await q.query(`
      CREATE TABLE otp_audit_policy (
        id smallint PRIMARY KEY CHECK (id = 1),
        min_retention interval NOT NULL,
        min_ip_window interval NOT NULL
      )`);
    await q.query(`INSERT INTO otp_audit_policy (id, min_retention, min_ip_window) VALUES (1, interval '30 days', interval '1 day')`);
    await q.query(`
      CREATE OR REPLACE FUNCTION otp_audit_purge_before(cutoff timestamptz) RETURNS bigint
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${path} AS $fn$
      DECLARE last_seq bigint; last_hash text; n bigint; floor_at timestamptz;
      BEGIN
        SELECT now() - min_retention INTO floor_at FROM otp_audit_policy WHERE id = 1;
        cutoff := least(cutoff, coalesce(floor_at, now() - interval '30 days'));
        PERFORM 1 FROM otp_audit_head WHERE id = 1 FOR UPDATE;
        -- The prefix before the first row that is not older than the cutoff.
        SELECT coalesce((SELECT min(seq) FROM otp_audit_log WHERE at >= cutoff) - 1, (SELECT max(seq) FROM otp_audit_log))
          INTO last_seq;
        SELECT l.hash INTO last_hash FROM otp_audit_log l WHERE l.seq = last_seq;
        IF last_hash IS NULL THEN RETURN 0; END IF;
        DELETE FROM otp_audit_log WHERE seq <= last_seq;
        GET DIAGNOSTICS n = ROW_COUNT;
        UPDATE otp_audit_anchor SET seq = last_seq, hash = last_hash, purged_at = now() WHERE id = 1;
        RETURN n;
      END $fn$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION otp_audit_truncate_ips_before(cutoff timestamptz) RETURNS bigint
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${path} AS $fn$
      DECLARE n bigint; floor_at timestamptz;
      BEGIN
        SELECT now() - min_ip_window INTO floor_at FROM otp_audit_policy WHERE id = 1;
        cutoff := least(cutoff, coalesce(floor_at, now() - interval '1 day'));
        UPDATE otp_audit_log SET ip = otp_audit_ip_prefix(ip), pii_salt = NULL, ip_truncated_at = now()
          WHERE at < cutoff AND ip IS NOT NULL AND ip_truncated_at IS NULL;
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
      END $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    const path = await searchPath(q);
    await q.query(`
      CREATE OR REPLACE FUNCTION otp_audit_truncate_ips_before(cutoff timestamptz) RETURNS bigint
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${path} AS $fn$
      DECLARE n bigint;
      BEGIN
        UPDATE otp_audit_log SET ip = otp_audit_ip_prefix(ip), pii_salt = NULL, ip_truncated_at = now()
          WHERE at < cutoff AND ip IS NOT NULL AND ip_truncated_at IS NULL;
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
      END $fn$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION otp_audit_purge_before(cutoff timestamptz) RETURNS bigint
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
    await q.query(`DROP TABLE otp_audit_policy`);
  }
}

async function searchPath(q: QueryRunner): Promise<string> {
  const [{ schema }] = await q.query(`SELECT current_schema() AS schema`);
  return `pg_catalog, "${String(schema).replace(/"/g, '""')}"`;
}
