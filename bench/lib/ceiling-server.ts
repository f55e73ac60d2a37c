/**
 * The "ceiling" of the benchmark: a plain node:http server with a pg pool of the
 * same size as the app's, running the limit routes' SQL. Runs as a child process;
 * reports `{ type: 'ready', port }` over IPC.
 */
import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Pool } from 'pg';
import { LIMIT_CIPHERTEXT, LIMIT_DIGEST, LIMIT_ISSUE_SQL, LIMIT_VERIFY_SQL, UUID } from './limit-sql';

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_SIZE ?? 10) });
pool.on('error', () => undefined);
const VERIFY_PATH = /^\/bench\/limit\/challenges\/([^/]+)\/verify$/;

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handle(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
  if (req.method !== 'POST') return reply(res, 404, { error: 'not_found', message: 'not found' });
  if (req.url === '/bench/limit/challenges') {
    const body = JSON.parse(raw || '{}') as { email?: unknown };
    const id = randomUUID();
    const { rows } = await pool.query(LIMIT_ISSUE_SQL, [id, String(body.email), LIMIT_DIGEST, LIMIT_CIPHERTEXT]);
    return reply(res, 202, { challengeId: id, expiresAt: rows[0].expires_at, resendAvailableAt: rows[0].resend_available_at });
  }
  const m = VERIFY_PATH.exec(req.url ?? '');
  if (m) {
    JSON.parse(raw || '{}');
    if (!UUID.test(m[1])) return reply(res, 400, { error: 'bad_request', message: 'bad id' });
    const { rows } = await pool.query(LIMIT_VERIFY_SQL, [m[1]]);
    if (!rows[0]) return reply(res, 401, { error: 'otp_invalid', message: 'invalid' });
    return reply(res, 200, { challengeId: rows[0].id, purpose: rows[0].purpose, verifiedAt: rows[0].consumed_at });
  }
  reply(res, 404, { error: 'not_found', message: 'not found' });
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    handle(req, res, Buffer.concat(chunks).toString('utf8')).catch(() => reply(res, 500, { error: 'internal_error', message: 'Internal error.' }));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });
});
process.on('message', (m: { cmd?: string }) => {
  if (m?.cmd === 'stop') server.close(() => pool.end().finally(() => process.exit(0)));
});
process.on('disconnect', () => process.exit(0));
