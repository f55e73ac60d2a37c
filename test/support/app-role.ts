import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * Runs `body` on a connection acting, inside one transaction, as a fresh role granted
 * what `otp_audit_grant_app_role` grants the application (the DBA's setup of R40); the
 * transaction is rolled back and the role dropped afterwards, whatever `body` did.
 */
export async function asAuditAppRole(databaseUrl: string, body: (client: Client) => Promise<void>): Promise<void> {
  const role = `otp_test_role_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE ${role} NOLOGIN`);
    await admin.query(`SELECT otp_audit_grant_app_role($1)`, [role]);
    await admin.query(`BEGIN`);
    await admin.query(`SET LOCAL ROLE ${role}`);
    await body(admin);
  } finally {
    await admin.query(`ROLLBACK`).catch(() => undefined);
    await admin.query(`DROP OWNED BY ${role}`);
    await admin.query(`DROP ROLE ${role}`);
    await admin.end();
  }
}
