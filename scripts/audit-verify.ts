/**
 * `npm run audit:verify`: checks the audit chain on DATABASE_URL from its anchor
 * and names the first broken row. Exit 0 when intact, 1 when broken, 2 on error.
 * Prints the head (seq and hash): keep it somewhere the database cannot change.
 */
import { Client } from 'pg';
import { verifyAuditChain } from '../src/otp/audit/audit-chain.verifier';

async function main(): Promise<number> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error('audit:verify: set DATABASE_URL');
    return 2;
  }
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const result = await verifyAuditChain(async (sql, params) => (await client.query(sql, params)).rows);
    if (result.ok) {
      console.log(`audit chain OK: ${result.rows} row(s) from anchor seq ${result.anchorSeq}; head seq ${result.headSeq} hash ${result.headHash}`);
      return 0;
    }
    console.error(`audit chain BROKEN at seq ${result.firstBroken!.seq}: ${result.firstBroken!.reason} (checked ${result.rows} row(s) before it)`);
    return 1;
  } finally {
    await client.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`audit:verify failed: ${err.message}`);
    process.exit(2);
  },
);
