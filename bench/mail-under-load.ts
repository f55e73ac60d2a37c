/**
 * Mail under issue load (issue 12): one app with the real outbox dispatcher and SMTP port, a
 * code sink in the harness, and DIAG_CLIENTS (4) closed-loop clients issuing over HTTP for
 * DIAG_SECONDS (20). Prints how many codes reached the sink while issuing went on, against how
 * many were issued, and how long the rest took once it stopped. DIAG_ENV (JSON) adds app variables
 * (e.g. '{"MAIL_SMTP_CONNECTIONS":"5"}'), DIAG_ADAPTER picks the adapter (fastify).
 *   npx tsc -p bench/tsconfig.json && node dist/bench/mail-under-load.js
 */
import { Agent, request } from 'node:http';
import { appEnv } from './lib/bench-env';
import { openBenchDatabase } from './lib/bench-db';
import { cpuMs, startChild } from './lib/child';
import { AppReady } from './lib/phases';
import { startCodeSink } from './lib/soak';

function post(agent: Agent, port: number, path: string, body: unknown): Promise<number> {
  return new Promise((resolve) => {
    const data = JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      res.resume(); res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(data);
  });
}

async function main() {
  const seconds = Number(process.env.DIAG_SECONDS ?? 20);
  const clients = Number(process.env.DIAG_CLIENTS ?? 4);
  const db = await openBenchDatabase();
  const { sink } = await startCodeSink();
  const extra = { SMTP_URL: `smtp://127.0.0.1:${sink.port}`, SMTP_CA_FILE: sink.caFile, ...JSON.parse(process.env.DIAG_ENV ?? '{}') };
  const app = await startChild<AppReady>('app-server', appEnv(db.url, { adapter: process.env.DIAG_ADAPTER ?? 'fastify', audit: true, throttlerStorage: 'memory', mailPort: 'real', extra }));
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  let issued = 0; let stop = false; let n = 0;
  const started = Date.now();
  const cpu0 = cpuMs(app.proc.pid!);
  const client = async () => { while (!stop) { if ((await post(agent, app.ready.port, '/auth/otp/challenges', { email: `flow-${process.pid}-${n++}@bench.example.com` })) === 202) issued++; } };
  const all = Array.from({ length: clients }, client);
  while (Date.now() - started < seconds * 1000) { await new Promise((r) => setTimeout(r, 5000)); console.log(`${((Date.now() - started) / 1000).toFixed(0)} s: issued ${issued}, at the sink ${sink.received.length}`); }
  stop = true; await Promise.all(all);
  const atStop = sink.received.length; const issuedAtStop = issued; const t1 = Date.now(); const cpu1 = cpuMs(app.proc.pid!);
  while (sink.received.length < issued && Date.now() - t1 < 60_000) await new Promise((r) => setTimeout(r, 50));
  console.log(`RESULT ${JSON.stringify(process.env.DIAG_ENV ?? '{}')}: issued ${issuedAtStop} in ${seconds} s (${(issuedAtStop / seconds).toFixed(1)}/s), at the sink meanwhile ${atStop} (ratio ${(atStop / issuedAtStop).toFixed(2)}); the rest after ${Date.now() - t1} ms; app CPU ${((cpu1 - cpu0) / (issuedAtStop)).toFixed(2)} ms per issue+mail while issuing`);
  await app.stop();
  await sink.close();
  await db.close();
  agent.destroy();
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
