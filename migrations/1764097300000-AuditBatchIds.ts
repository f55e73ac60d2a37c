import { MigrationInterface, QueryRunner } from 'typeorm';

const GRANT_WITH = (path: string, batch: boolean) => `
  CREATE OR REPLACE FUNCTION otp_audit_grant_app_role(app_role name) RETURNS void
  LANGUAGE plpgsql SET search_path = ${path} AS $fn$
  BEGIN
    EXECUTE format('REVOKE ALL ON otp_audit_log, otp_audit_head, otp_audit_anchor${batch ? ', otp_audit_batch' : ''} FROM %I', app_role);
    EXECUTE format('GRANT SELECT, INSERT ON otp_audit_log TO %I', app_role);
    EXECUTE format('GRANT SELECT, UPDATE ON otp_audit_head TO %I', app_role);
    EXECUTE format('GRANT SELECT ON otp_audit_anchor TO %I', app_role);${batch ? `
    EXECUTE format('GRANT SELECT, INSERT, DELETE ON otp_audit_batch TO %I', app_role);` : ''}
    EXECUTE format('GRANT EXECUTE ON FUNCTION otp_audit_purge_before(timestamptz), otp_audit_erase_subject(text), otp_audit_truncate_ips_before(timestamptz) TO %I', app_role);
  END $fn$`;

/**
 * Audit rows written once when an append's answer is lost (R40).
 *
 * - `otp_audit_batch`: one row per batch the audit writer appends, under a random id the writer
 *   picks once and sends with every try of that batch; the append inserts it in the same
 *   statement as the batch's rows. A try of a batch that is in the chain already (an earlier
 *   try committed, its answer lost; or it commits while the retry waits for the head lock)
 *   fails on the primary key and writes nothing. `last_seq` is the batch's last row.
 *   Retention deletes ids older than the spent-row period, and never younger than a day
 *   (`appended_at`); an id only has to outlive the writer's retries. A new table: no lock on
 *   `otp_audit_log`, whatever its size.
 * - `otp_audit_grant_app_role`: also grants SELECT, INSERT, DELETE on it (deleting an id can only
 *   let a retry write a batch twice; the chain itself stays out of the app role's reach), and the
 *   migration grants the same to every role that can INSERT into `otp_audit_log` already.
 */
export class AuditBatchIds1764097300000 implements MigrationInterface {
  name = 'AuditBatchIds1764097300000';

  async up(q: QueryRunner): Promise<void> {
    const path = await searchPath(q);
    await q.query(`
      CREATE TABLE otp_audit_batch (
        id uuid NOT NULL,
        last_seq bigint NOT NULL,
        appended_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT otp_audit_batch_pkey PRIMARY KEY (id)
      )`);
    await q.query(GRANT_WITH(path, true));
    // Roles that append already (granted by the function, or by hand) get the new table too: without it their
    // appends would fail from this migration on, until someone ran the function again.
    await q.query(`
      DO $do$
      DECLARE r record;
      BEGIN
        FOR r IN SELECT DISTINCT a.grantee::regrole::text AS role FROM pg_class c, aclexplode(c.relacl) a
          WHERE c.oid = 'otp_audit_log'::regclass AND a.privilege_type = 'INSERT' AND a.grantee <> c.relowner AND a.grantee <> 0
        LOOP
          EXECUTE format('GRANT SELECT, INSERT, DELETE ON otp_audit_batch TO %s', r.role);
        END LOOP;
      END $do$`);
  }

  async down(q: QueryRunner): Promise<void> {
    const path = await searchPath(q);
    await q.query(GRANT_WITH(path, false));
    await q.query(`DROP TABLE otp_audit_batch`);
  }
}

async function searchPath(q: QueryRunner): Promise<string> {
  const [{ schema }] = await q.query(`SELECT current_schema() AS schema`);
  return `pg_catalog, "${String(schema).replace(/"/g, '""')}"`;
}
