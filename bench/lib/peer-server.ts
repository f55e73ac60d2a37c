/**
 * The peer under benchmark, in its own process: better-auth (pinned dev dependency) with its
 * emailOTP plugin on `node:http` (`toNodeHandler`), its own database on the same PostgreSQL
 * (`DATABASE_URL`, migrated with `getMigrations`), codes stored hashed, mail captured in memory
 * like ours, its rate limiter on (memory) with the limits raised for the one load-generator IP,
 * as ours are. Talks to the harness over IPC like app-server.ts:
 *  - sends `{ type: 'ready', port }` once listening;
 *  - `{ cmd: 'prepare', id, n, tag }` sends n sign-in codes through `auth.api` and answers
 *    `{ type: 'prepared', id, pairs: [email, otp][] }`;
 *  - `{ cmd: 'stop' }` closes and exits.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { PEER_RAISED_LIMIT as RAISED } from './peer-http';

/* eslint-disable @typescript-eslint/no-explicit-any */
// better-auth ships ES modules only: a real import() (TypeScript would turn `import()` into require under CommonJS).
const esm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<any>;

async function createPeer(codes: Map<string, string>, recording: () => boolean): Promise<{ auth: any; options: any }> {
  const [{ betterAuth }, { emailOTP }] = await Promise.all([esm('better-auth'), esm('better-auth/plugins')]);
  const options = {
    database: new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_SIZE ?? 10) }),
    secret: randomBytes(32).toString('base64'),
    baseURL: 'http://127.0.0.1',
    telemetry: { enabled: false },
    logger: { level: 'error' },
    advanced: { ipAddress: { ipAddressHeaders: ['x-forwarded-for'] } },
    rateLimit: {
      enabled: true,
      storage: 'memory',
      ...RAISED,
      customRules: { '/email-otp/send-verification-otp': RAISED, '/sign-in/email-otp': RAISED },
    },
    plugins: [
      emailOTP({
        storeOTP: 'hashed',
        async sendVerificationOTP({ email, otp }: { email: string; otp: string }) {
          if (recording()) codes.set(email, otp);
        },
      }),
    ],
  };
  return { auth: betterAuth(options), options };
}

async function prepare(auth: any, codes: Map<string, string>, n: number, tag: string): Promise<[string, string][]> {
  const emails: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const email = `peer-${tag}-${next++}@bench.example.com`;
      await auth.api.sendVerificationOTP({ body: { email, type: 'sign-in' } });
      emails.push(email);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const pairs = emails.map((e) => [e, codes.get(e)] as [string, string | undefined]);
  const missing = pairs.filter((p) => !p[1]).length;
  if (missing) throw new Error(`${missing} of ${n} codes did not reach the captured mail`);
  codes.clear();
  return pairs as [string, string][];
}

async function main(): Promise<void> {
  const codes = new Map<string, string>();
  let recording = false;
  const { auth, options } = await createPeer(codes, () => recording);
  const { getMigrations } = await esm('better-auth/db/migration');
  await (await getMigrations(options)).runMigrations();
  const { toNodeHandler } = await esm('better-auth/node');
  const server = createServer(toNodeHandler(auth));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.send!({ type: 'ready', port: (server.address() as AddressInfo).port });
  process.on('message', (m: { cmd: string; id?: number; n?: number; tag?: string }) => {
    if (m.cmd === 'prepare') {
      recording = true;
      prepare(auth, codes, m.n!, m.tag!)
        .then((pairs) => process.send!({ type: 'prepared', id: m.id, pairs }))
        .catch((err: Error) => process.send!({ type: 'prepared', id: m.id, error: err.message }))
        .finally(() => (recording = false));
    } else if (m.cmd === 'stop') {
      server.close();
      server.closeAllConnections();
      options.database.end().finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
}

main().catch((err: Error) => {
  process.stderr.write(`peer failed to start: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
