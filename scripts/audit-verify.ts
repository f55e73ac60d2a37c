/**
 * `npm run audit:verify [-- --anchors FILE] [--ip-truncate-seconds N]`: checks the audit chain
 * on DATABASE_URL from its anchor and names the first broken row. Exit 0 when intact, 1 when
 * broken, 2 on error. Prints the head (seq and hash); `npm run audit:anchor` records it.
 *
 * - `--anchors FILE`: the lines `audit:anchor` wrote; the chain must still reach every one.
 * - `--ip-truncate-seconds N`: the app's `retention.ipTruncateSeconds` (default its default,
 *   30 days); a row whose IP was truncated earlier than that after its time is a break.
 */
import { verifyAuditChain } from '../src/otp/audit/audit-chain.verifier';
import { argValue, readAnchors, withAuditDatabase } from './support/audit-db';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const anchorsFile = argValue(argv, '--anchors');
  const windowArg = argValue(argv, '--ip-truncate-seconds');
  if (windowArg !== undefined && !/^[0-9]+(\.[0-9]+)?$/.test(windowArg)) throw new Error('--ip-truncate-seconds needs a number of seconds');
  const anchors = anchorsFile ? await readAnchors(anchorsFile) : undefined;
  const ipTruncateSeconds = windowArg === undefined ? undefined : Number(windowArg);
  return withAuditDatabase('audit:verify', async (client) => {
    const result = await verifyAuditChain(async (sql, params) => (await client.query(sql, params)).rows, { anchors, ipTruncateSeconds });
    if (result.ok) {
      const reached = anchors ? `; ${result.anchorsReached} external anchor(s) reached` : '';
      console.log(`audit chain OK: ${result.rows} row(s) from anchor seq ${result.anchorSeq}; head seq ${result.headSeq} hash ${result.headHash}${reached}`);
      return 0;
    }
    console.error(`audit chain BROKEN at seq ${result.firstBroken!.seq}: ${result.firstBroken!.reason} (checked ${result.rows} row(s) before it)`);
    return 1;
  });
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`audit:verify failed: ${err.message}`);
    process.exit(2);
  },
);
