/**
 * `npm run audit:anchor`: prints the audit chain's head on DATABASE_URL as one JSON line
 * `{"seq","hash","at"}` and, with OTP_AUDIT_ANCHOR_FILE, appends that line to the file.
 * Ship the lines somewhere the database roles cannot write; `audit:verify --anchors FILE`
 * then fails when the chain no longer reaches one of them (newest rows deleted, head moved
 * back, chain rebuilt). Exit 0, or 2 on error.
 */
import { appendFile } from 'node:fs/promises';
import { withAuditDatabase } from './support/audit-db';

async function main(): Promise<void> {
  const head = await withAuditDatabase('audit:anchor', async (client) =>
    (await client.query(`SELECT seq::text AS seq, hash FROM otp_audit_head WHERE id = 1`)).rows[0] as { seq: string; hash: string });
  const line = JSON.stringify({ seq: head.seq, hash: head.hash, at: new Date().toISOString() });
  const file = process.env.OTP_AUDIT_ANCHOR_FILE;
  if (file) await appendFile(file, line + '\n', { encoding: 'utf8', mode: 0o600 });
  console.log(line);
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(`audit:anchor failed: ${err.message}`);
    process.exit(2);
  },
);
