import { MigrationInterface, QueryRunner } from 'typeorm';

const GRANT_WITH = (path: string, functions: string) => `
  CREATE OR REPLACE FUNCTION otp_audit_grant_app_role(app_role name) RETURNS void
  LANGUAGE plpgsql SET search_path = ${path} AS $fn$
  BEGIN
    EXECUTE format('REVOKE ALL ON otp_audit_log, otp_audit_head, otp_audit_anchor FROM %I', app_role);
    EXECUTE format('GRANT SELECT, INSERT ON otp_audit_log TO %I', app_role);
    EXECUTE format('GRANT SELECT, UPDATE ON otp_audit_head TO %I', app_role);
    EXECUTE format('GRANT SELECT ON otp_audit_anchor TO %I', app_role);
    EXECUTE format('GRANT EXECUTE ON FUNCTION ${functions} TO %I', app_role);
  END $fn$`;

/**
 * IP truncation in the audit trail once the security window has passed (R38).
 *
 * The exact IP is part of the salted commitment that binds a row's personal fields to
 * the chain; any value derived from it alone (even a hash) could be reversed, as the
 * IPv4 space is small. So truncation is treated like erasure of the exact IP: the IP
 * becomes its network (`203.0.113.0/24`, `2001:db8:1::/48`), the salt is dropped, and
 * `ip_truncated_at` records when. The chained content, with its now untestable
 * commitment, is unchanged, so the chain still verifies; the personal fields of such a
 * row are kept but no longer bound by the commitment.
 *
 * - `otp_audit_ip_prefix(ip)`: the network of an address (IPv4 /24, IPv6 /48, IPv4-mapped
 *   IPv6 as IPv4); NULL for anything that does not parse.
 * - `otp_audit_truncate_ips_before(cutoff)`: SECURITY DEFINER (the app role cannot UPDATE
 *   the log), truncates the IPs of rows older than `cutoff`; returns the row count.
 */
export class TruncateOtpAuditIps1764093000000 implements MigrationInterface {
  name = 'TruncateOtpAuditIps1764093000000';

  async up(q: QueryRunner): Promise<void> {
    const path = await searchPath(q);
    await q.query(`ALTER TABLE otp_audit_log ADD COLUMN ip_truncated_at timestamptz`);
    await q.query(`
      CREATE FUNCTION otp_audit_ip_prefix(ip text) RETURNS text
      LANGUAGE plpgsql IMMUTABLE SET search_path = ${path} AS $fn$
      DECLARE addr inet;
      BEGIN
        BEGIN
          addr := host(ip::inet)::inet;
        EXCEPTION WHEN others THEN
          RETURN NULL;
        END;
        IF family(addr) = 6 AND host(addr) ~* '^::ffff:[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$' THEN
          addr := substr(host(addr), 8)::inet;
        END IF;
        RETURN network(set_masklen(addr, CASE family(addr) WHEN 4 THEN 24 ELSE 48 END))::text;
      END $fn$`);
    await q.query(`
      CREATE FUNCTION otp_audit_truncate_ips_before(cutoff timestamptz) RETURNS bigint
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = ${path} AS $fn$
      DECLARE n bigint;
      BEGIN
        UPDATE otp_audit_log SET ip = otp_audit_ip_prefix(ip), pii_salt = NULL, ip_truncated_at = now()
          WHERE at < cutoff AND ip IS NOT NULL AND ip_truncated_at IS NULL;
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
      END $fn$`);
    await q.query(`REVOKE ALL ON FUNCTION otp_audit_truncate_ips_before(timestamptz) FROM PUBLIC`);
    await q.query(GRANT_WITH(path,
      'otp_audit_purge_before(timestamptz), otp_audit_erase_subject(text), otp_audit_truncate_ips_before(timestamptz)'));
  }

  async down(q: QueryRunner): Promise<void> {
    const path = await searchPath(q);
    await q.query(GRANT_WITH(path, 'otp_audit_purge_before(timestamptz), otp_audit_erase_subject(text)'));
    await q.query(`DROP FUNCTION otp_audit_truncate_ips_before(timestamptz)`);
    await q.query(`DROP FUNCTION otp_audit_ip_prefix(text)`);
    await q.query(`ALTER TABLE otp_audit_log DROP COLUMN ip_truncated_at`);
  }
}

async function searchPath(q: QueryRunner): Promise<string> {
  const [{ schema }] = await q.query(`SELECT current_schema() AS schema`);
  return `pg_catalog, "${String(schema).replace(/"/g, '""')}"`;
}
