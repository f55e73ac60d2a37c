import { readFile } from 'node:fs/promises';
import { Client } from 'pg';
import type { AuditAnchor } from '../audit/audit-chain.verifier';

/** Runs `fn` on a bare `pg` client of DATABASE_URL (the audit commands need no keys). */
export async function withAuditDatabase<T>(name: string, env: NodeJS.ProcessEnv, fn: (client: Client) => Promise<T>): Promise<T> {
  const url = env.DATABASE_URL;
  if (!url) throw new Error(`${name}: set DATABASE_URL`);
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The value of `--name VALUE` or `--name=VALUE`, if given. */
export function argValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  if (i >= 0) {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${name} needs a value`);
    return v;
  }
  return argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

/** Anchors file of `audit:anchor`: one JSON object `{ seq, hash, at }` a line. */
export async function readAnchors(file: string): Promise<AuditAnchor[]> {
  const text = await readFile(file, 'utf8');
  const anchors: AuditAnchor[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let a: Partial<AuditAnchor> | null = null;
    try {
      a = JSON.parse(line) as Partial<AuditAnchor>;
    } catch {
      a = null;
    }
    const valid = a !== null && typeof a === 'object' && typeof a.seq === 'string' && /^[0-9]{1,19}$/.test(a.seq)
      && typeof a.hash === 'string' && /^[0-9a-f]{64}$/.test(a.hash) && (a.at === undefined || typeof a.at === 'string');
    if (!valid) throw new Error(`${file} line ${i + 1} is not an anchor ({"seq":"<digits>","hash":"<64 hex>","at":"<ISO time>"})`);
    anchors.push({ seq: a!.seq!, hash: a!.hash!, at: a!.at });
  });
  return anchors;
}
