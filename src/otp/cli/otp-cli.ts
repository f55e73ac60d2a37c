import { appendFile, readFile } from 'node:fs/promises';
import { DataSource } from 'typeorm';
import { verifyAuditChain } from '../audit/audit-chain.verifier';
import { generateKeyLine } from '../crypto/otp-keyring';
import { OtpErasureService } from '../ops/otp-erasure.service';
import { OtpInvalidationService } from '../ops/otp-invalidation.service';
import { planKeyRotation } from '../ops/otp-key-rotation';
import { OtpRetentionPurgeError, OtpRetentionService } from '../ops/otp-retention.service';
import { argValue, readAnchors, withAuditDatabase } from './audit-db';
import { withOtpContext } from './otp-cli.context';
import { OTP_MIGRATIONS_TABLE, revertOtpMigration, runOtpMigrations, showOtpMigrations } from '../persistence/otp-migrations.runner';

/** A command: resolves to its exit code, or throws (exit 2, the message on stderr). */
type Command = (argv: string[], env: NodeJS.ProcessEnv) => Promise<number>;

const USAGE = `usage: nestjs-email-otp <command> [flags]   (reads DATABASE_URL and the app's OTP_* variables)
  migration:run | migration:revert | migration:show   the module's migrations, in table ${OTP_MIGRATIONS_TABLE} (OTP_MIGRATIONS_TABLE)
  audit:verify [--anchors FILE] [--ip-truncate-seconds N] [--audit-retention-seconds N]
  audit:anchor                                        (OTP_AUDIT_ANCHOR_FILE to append the line)
  otp:purge | otp:invalidate-all | otp:erase --email <address>
  otp:keys new | rotate`;

async function withDataSource<T>(env: NodeJS.ProcessEnv, name: string, fn: (ds: DataSource) => Promise<T>): Promise<T> {
  if (!env.DATABASE_URL) throw new Error(`${name}: set DATABASE_URL`);
  const ca = env.DATABASE_CA_FILE ? await readFile(env.DATABASE_CA_FILE, 'utf8') : undefined;
  const ds = new DataSource({ type: 'postgres', url: env.DATABASE_URL, ssl: env.DATABASE_SSL === 'require' ? (ca ? { ca } : {}) : undefined,
    extra: { max: 1, application_name: 'nestjs-email-otp-cli' }, logging: false });
  await ds.initialize();
  try {
    return await fn(ds);
  } finally {
    await ds.destroy();
  }
}

const tableName = (env: NodeJS.ProcessEnv) => env.OTP_MIGRATIONS_TABLE || OTP_MIGRATIONS_TABLE;

const COMMANDS: Record<string, Command> = {
  'migration:run': (_argv, env) => withDataSource(env, 'migration:run', async (ds) => {
    const ran = await runOtpMigrations(ds, { tableName: tableName(env) });
    ran.forEach((m) => console.log(`ran ${m.name}`));
    console.log(`${ran.length} migration(s) run; table ${tableName(env)}`);
    return 0;
  }),
  'migration:revert': (_argv, env) => withDataSource(env, 'migration:revert', async (ds) => {
    await revertOtpMigration(ds, { tableName: tableName(env) });
    console.log(`reverted the newest module migration; table ${tableName(env)}`);
    return 0;
  }),
  'migration:show': (_argv, env) => withDataSource(env, 'migration:show', async (ds) => {
    const list = await showOtpMigrations(ds, { tableName: tableName(env) });
    list.forEach((m) => console.log(`${m.applied ? '[X]' : '[ ]'} ${m.name}`));
    return list.every((m) => m.applied) ? 0 : 1;
  }),
  'audit:verify': async (argv, env) => {
    const anchorsFile = argValue(argv, '--anchors');
    const windowArg = argValue(argv, '--ip-truncate-seconds');
    if (windowArg !== undefined && !/^[0-9]+(\.[0-9]+)?$/.test(windowArg)) throw new Error('--ip-truncate-seconds needs a number of seconds');
    const retentionArg = argValue(argv, '--audit-retention-seconds');
    if (retentionArg !== undefined && !/^[0-9]+(\.[0-9]+)?$/.test(retentionArg)) throw new Error('--audit-retention-seconds needs a number of seconds');
    const auditRetentionSeconds = retentionArg === undefined ? undefined : Number(retentionArg);
    const anchors = anchorsFile ? await readAnchors(anchorsFile) : undefined;
    const ipTruncateSeconds = windowArg === undefined ? undefined : Number(windowArg);
    return withAuditDatabase('audit:verify', env, async (client) => {
      const result = await verifyAuditChain(async (sql, params) => (await client.query(sql, params)).rows, { anchors, ipTruncateSeconds, auditRetentionSeconds });
      if (result.ok) {
        const reached = anchors ? `; ${result.anchorsReached} external anchor(s) reached` : '';
        console.log(`audit chain OK: ${result.rows} row(s) from anchor seq ${result.anchorSeq}; head seq ${result.headSeq} hash ${result.headHash}${reached}`);
        return 0;
      }
      console.error(`audit chain BROKEN at seq ${result.firstBroken!.seq}: ${result.firstBroken!.reason} (checked ${result.rows} row(s) before it)`);
      return 1;
    });
  },
  'audit:anchor': async (_argv, env) => {
    const head = await withAuditDatabase('audit:anchor', env, async (client) =>
      (await client.query(`SELECT seq::text AS seq, hash FROM otp_audit_head WHERE id = 1`)).rows[0] as { seq: string; hash: string });
    const line = JSON.stringify({ seq: head.seq, hash: head.hash, at: new Date().toISOString() });
    const file = env.OTP_AUDIT_ANCHOR_FILE;
    if (file) await appendFile(file, line + '\n', { encoding: 'utf8', mode: 0o600 });
    console.log(line);
    return 0;
  },
  'otp:purge': async (_argv, env) => {
    try {
      const report = await withOtpContext('otp:purge', env, (app) => app.get(OtpRetentionService).purge());
      console.log(JSON.stringify({ purged: report }));
      return 0;
    } catch (err) {
      if (!(err instanceof OtpRetentionPurgeError)) throw err;
      // Some steps failed, the others ran: what they did, and exit 1 (2 stays for usage and set-up errors).
      console.log(JSON.stringify({ purged: err.report, failed: err.failed }));
      console.error(err.message);
      return 1;
    }
  },
  'otp:erase': async (argv, env) => {
    const i = argv.indexOf('--email');
    const email = i >= 0 ? argv[i + 1] : argValue(argv, '--email');
    if (!email || !email.includes('@')) throw new Error('usage: nestjs-email-otp otp:erase --email <address>');
    const report = await withOtpContext('otp:erase', env, (app) => app.get(OtpErasureService).eraseEmail(email));
    console.log(JSON.stringify({ erased: report }));
    return 0;
  },
  'otp:invalidate-all': async (_argv, env) => {
    const report = await withOtpContext('otp:invalidate-all', env, (app) => app.get(OtpInvalidationService).invalidateAll());
    console.log(JSON.stringify({ invalidated: report }));
    return 0;
  },
  'otp:keys': async (argv, env) => {
    if (argv[0] === 'new') {
      console.log(`OTP_KEYS=${generateKeyLine('k1')}`);
      console.log(`OTP_ENCRYPTION_KEYS=${generateKeyLine('e1')}`);
      return 0;
    }
    if (argv[0] === 'rotate') {
      const plan = planKeyRotation(env.OTP_KEYS, Boolean(env.OTP_INDEX_KEY));
      console.log(`OTP_KEYS=${plan.keys}`);
      if (plan.indexKey) console.log(`OTP_INDEX_KEY=${plan.indexKey}`);
      console.log('');
      plan.steps.forEach((s, n) => console.log(`${n + 1}. ${s}`));
      return 0;
    }
    console.error('usage: nestjs-email-otp otp:keys new | rotate');
    return 2;
  },
};

/** Subcommands of the `nestjs-email-otp` bin (also behind this repo's npm scripts). Resolves to the exit code. */
export async function runOtpCli(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(USAGE);
    return 2;
  }
  try {
    return await command(rest, env);
  } catch (err) {
    // audit:* keep their "name failed:" prefix; the app-context commands print the bare message, as before.
    const message = (err as Error).message;
    console.error(name.startsWith('audit:') ? `${name} failed: ${message}` : message);
    return 2;
  }
}
