import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tamper evidence of IP truncation and erasure in the audit trail (R30, R38, R40).
 *
 * - `body_version`: 2 for rows written from now on; their hashed body also covers
 *   `link_commitment`, a commitment to recipient index, user agent and IP network under its
 *   own salt (`link_salt`). `ip_network` is the network the app computed for the IP.
 *   Rows written before keep version 1 and verify as before.
 * - `otp_audit_truncate_ips_before`: a version 2 row's IP becomes its `ip_network` (the value
 *   the link commitment binds); its link salt stays, so index, agent and network stay bound.
 * - `otp_audit_erase_subject`: takes the head lock and marks every row it empties with
 *   `erased_by` = the seq the next append gets, which is the `audit.erased` event the app
 *   appends in the same transaction; the verifier matches the two.
 */
export class AuditLinkCommitment1764097000000 implements MigrationInterface {
  name = 'AuditLinkCommitment1764097000000';

  async up(q: QueryRunner): Promise<void> {
    const path = await searchPath(q);
    await q.query(`ALTER TABLE otp_audit_log ADD COLUMN body_version smallint NOT NULL DEFAULT 1,
      ADD COLUMN link_commitment text, ADD COLUMN link_salt text, ADD COLUMN ip_network text, ADD COLUMN erased_by bigint`);
    await q.query(`
      CREATE OR REPLACE FUNCTION otp_audit_truncate_ips_before(cutoff timestamptz) RETURNS bigint
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${path} AS $fn$
      DECLARE n bigint; floor_at timestamptz;
      BEGIN
        SELECT now() - min_ip_window INTO floor_at FROM otp_audit_policy WHERE id = 1;
        cutoff := least(cutoff, coalesce(floor_at, now() - interval '1 day'));
        UPDATE otp_audit_log
          SET ip = CASE WHEN body_version >= 2 THEN ip_network ELSE otp_audit_ip_prefix(ip) END,
            ip_network = NULL, pii_salt = NULL, ip_truncated_at = now()
          WHERE at < cutoff AND ip IS NOT NULL AND ip_truncated_at IS NULL;
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
      END $fn$`);
    await q.query(`
      CREATE OR REPLACE FUNCTION otp_audit_erase_subject(subject text) RETURNS bigint
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${path} AS $fn$
      DECLARE n bigint; next_seq bigint;
      BEGIN
        SELECT seq + 1 INTO next_seq FROM otp_audit_head WHERE id = 1 FOR UPDATE;
        UPDATE otp_audit_log SET recipient_index = NULL, ip = NULL, user_agent = NULL, pii_salt = NULL,
            link_salt = NULL, ip_network = NULL, erased_by = next_seq
          WHERE recipient_index = subject;
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
      END $fn$`);
  }

  async down(q: QueryRunner): Promise<void> {
    const path = await searchPath(q);
    await q.query(`
      CREATE OR REPLACE FUNCTION otp_audit_erase_subject(subject text) RETURNS bigint
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${path} AS $fn$
      DECLARE n bigint;
      BEGIN
        UPDATE otp_audit_log SET recipient_index = NULL, ip = NULL, user_agent = NULL, pii_salt = NULL
          WHERE recipient_index = subject;
        GET DIAGNOSTICS n = ROW_COUNT;
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
    await q.query(`ALTER TABLE otp_audit_log DROP COLUMN erased_by, DROP COLUMN ip_network, DROP COLUMN link_salt,
      DROP COLUMN link_commitment, DROP COLUMN body_version`);
  }
}

async function searchPath(q: QueryRunner): Promise<string> {
  const [{ schema }] = await q.query(`SELECT current_schema() AS schema`);
  return `pg_catalog, "${String(schema).replace(/"/g, '""')}"`;
}
