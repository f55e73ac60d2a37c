/**
 * `npm run bench:profile`: runs the app (best adapter by default, `HTTP_ADAPTER`)
 * under `node --cpu-prof` with issue then verify load (BENCH_SECONDS each), and
 * prints where its CPU time goes, by package and by function (self time).
 * The raw .cpuprofile stays in bench/results/ for Chrome DevTools.
 * `PROFILE_ROUTE=issue|verify|signin|limit|decompose` (signin: the code sign-in pair of the peer part, verify then
 * `POST /accounts/sessions` with the token, `bench/lib/flows.ts`; CPU per completed pair; limit: the bare limit routes in the app, what its global pipeline costs;
 * decompose: limit, + validation, + an interceptor, + the audit interceptor, OTP);
 * `PROFILE_ROUTE=pipeline` compares, unprofiled, the app's limit routes with a bare NestJS app's (same adapter and SQL);
 * `PROFILE_AUDIT=on` profiles with the audit trail written (the bench's headline setting).
 * `PROFILE_ROUTE=mail` profiles an instance draining a mail backlog to a local SMTP sink.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appEnv } from './lib/bench-env';
import { openBenchDatabase } from './lib/bench-db';
import { cpuMs, startChild } from './lib/child';
import { codeSignIns, runFlows } from './lib/flows';
import { leversOf } from './lib/levers';
import { comparePipeline } from './lib/pipeline';
import { median, runLoad } from './lib/load';
import { DISPATCHER_SETTINGS, sinkArrivalRate, startSmtpSink } from './lib/mail-bench';
import { AppReady, prepare } from './lib/phases';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }

/**
 * Self time by package and by function. With a window (the load's, monotonic µs like the profile's clock), only
 * the samples inside it count, so boot and warm-up (module loading, JIT) stay out of the table.
 */
function summarise(file: string, window?: { from: number; to: number }): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number };
  const hitsOf = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    if (window && (t < window.from || t > window.to)) continue;
    hitsOf.set(profile.samples[i], (hitsOf.get(profile.samples[i]) ?? 0) + 1);
  }
  let total = 0;
  for (const hits of hitsOf.values()) total += hits;
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const n of profile.nodes) {
    const hits = hitsOf.get(n.id) ?? 0;
    if (!hits) continue;
    const url = n.callFrame.url;
    const pkg = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url.includes('/dist/src/') ? 'app: ' + url.split('/dist/src/')[1].split('/').slice(0, 2).join('/') : url.startsWith('node:') ? url : url ? 'other' : `(${n.callFrame.functionName || 'native'})`);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + hits);
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${url.replace(/.*node_modules\//, '').replace(/.*\/dist\//, '')}:${n.callFrame.lineNumber}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + hits);
  }
  const top = (m: Map<string, number>, k: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k)
    .map(([name, hits]) => `  ${((100 * hits) / total).toFixed(1).padStart(5)}%  ${name}`).join('\n');
  const where = window ? ' in the load window' : '';
  console.log(`self time by package (${total} samples${where}):\n${top(byPackage, 25)}\n\nby function${where}:\n${top(byFunction, 40)}`);
}

async function main(): Promise<void> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const dir = join(__dirname, '../../bench/results');
  mkdirSync(dir, { recursive: true });
  const db = await openBenchDatabase();
  try {
    const route = process.env.PROFILE_ROUTE ?? 'verify';
    if (route === 'mail') return await profileMail(db.url, seconds, dir);
    // PROFILE_LOG_LEVEL=warn: the same app without its per-request log line (a diagnostic: what the request log costs).
    const extra = process.env.PROFILE_LOG_LEVEL ? { LOG_LEVEL: process.env.PROFILE_LOG_LEVEL } : {};
    // PROFILE_AUDIT=on: with the audit trail written, as the bench's headline runs (off by default, as before).
    const env = appEnv(db.url, { adapter: process.env.HTTP_ADAPTER ?? 'express', audit: process.env.PROFILE_AUDIT === 'on', throttlerStorage: 'memory', extra });
    const app = await startChild<AppReady>('app-server', env, 60_000, route === 'pipeline' ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    if (route === 'pipeline') {
      await comparePipeline(app, env, db.pool, seconds);
      return await app.stop();
    }
    const url = `http://127.0.0.1:${app.ready.port}`;
    let i = 0;
    if (route === 'decompose') {
      // Where the issue route's time goes: the bare limit, plus validation, plus an interceptor, plus the audit one, and the OTP route.
      const paths = ['/bench/limit/challenges', '/bench/limit/challenges/validated', '/bench/limit/challenges/intercepted',
        '/bench/limit/challenges/audited', '/auth/otp/challenges'];
      const results = new Map<string, { rps: number[]; cpu: number[] }>(paths.map((p) => [p, { rps: [], cpu: [] }]));
      for (let round = 0; round < 3; round++) {
        for (const path of paths) {
          const cpu0 = cpuMs(app.proc.pid!);
          const r = await runLoad({ url, connections: 32, seconds, next: () => ({ path, body: JSON.stringify({ email: `dec-${i++}@bench.example.com` }) }) });
          results.get(path)!.rps.push(r.rps);
          results.get(path)!.cpu.push(((cpuMs(app.proc.pid!) - cpu0) * 1000) / Math.max(1, r.ok + r.non2xx));
        }
      }
      for (const [path, m] of results) console.log(`${path.padEnd(36)} median ${median(m.rps).toFixed(0)} req/s, app CPU ${median(m.cpu).toFixed(0)} µs/req`);
      await app.stop();
      return;
    }
    // The load window (monotonic µs, the profile's clock) and the app's CPU in it: the lever table counts only that.
    const window = { from: 0, to: 0, cpuUsPerRequest: 0 };
    const timed = async (load: () => Promise<Awaited<ReturnType<typeof runLoad>>>) => {
      const cpu0 = cpuMs(app.proc.pid!);
      window.from = Number(process.hrtime.bigint() / 1000n);
      const r = await load();
      window.to = Number(process.hrtime.bigint() / 1000n);
      window.cpuUsPerRequest = ((cpuMs(app.proc.pid!) - cpu0) * 1000) / Math.max(1, r.ok + r.non2xx);
      return r;
    };
    // Warm-up outside the window, so the table shows the steady state rather than JIT and first-use work.
    await runLoad({ url, connections: 32, seconds: Math.max(2, seconds / 2), next: () => ({ path: '/auth/otp/challenges', body: JSON.stringify({ email: `warm-${i++}@bench.example.com` }) }) });
    if (route === 'issue') {
      const r = await timed(() => runLoad({ url, connections: 32, seconds, next: () => ({ path: '/auth/otp/challenges', body: JSON.stringify({ email: `prof-${i++}@bench.example.com` }) }) }));
      console.log(`issue: ${r.rps.toFixed(0)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, app CPU ${window.cpuUsPerRequest.toFixed(0)} µs/req (profiled)`);
    } else if (route === 'limit') {
      await runLoad({ url, connections: 32, seconds: Math.max(2, seconds / 2), next: () => ({ path: '/bench/limit/challenges', body: JSON.stringify({ email: `warm-${i++}@bench.example.com` }) }) });
      const r = await timed(() => runLoad({ url, connections: 32, seconds, next: () => ({ path: '/bench/limit/challenges', body: JSON.stringify({ email: `prof-${i++}@bench.example.com` }) }) }));
      console.log(`limit issue: ${r.rps.toFixed(0)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, app CPU ${window.cpuUsPerRequest.toFixed(0)} µs/req (profiled)`);
    } else if (route === 'signin') {
      const { pairs } = await app.request<{ pairs: [string, string, string][] }>({ cmd: 'prepare', n: 1500 * seconds, tag: `prof-s-${Date.now()}` }, 'prepared');
      const r = await timed(() => runFlows({ port: app.ready.port, connections: 32, seconds, flows: codeSignIns(pairs) }));
      console.log(`sign-in (verify + session): ${r.rps.toFixed(0)} pairs/s, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms (${r.non2xx} failed, ${r.errors} errors), app CPU ${window.cpuUsPerRequest.toFixed(0)} µs/pair (profiled)`);
    } else {
      // Enough for a quiet 2-core machine (verify answered up to ~2,500/s): a run that wraps around measures cheap 401s.
      const pairs = await prepare(app, 4000 * seconds);
      const r = await timed(() => runLoad({ url, connections: 32, seconds, next: () => { const [id, code] = pairs[i++ % pairs.length]; return { path: `/auth/otp/challenges/${id}/verify`, body: JSON.stringify({ code }) }; } }));
      console.log(`verify: ${r.rps.toFixed(0)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms (${r.non2xx} non-2xx), app CPU ${window.cpuUsPerRequest.toFixed(0)} µs/req (profiled)`);
    }
    await stopAndSummarise(app, dir, window);
  } finally {
    await db.close();
  }
}

async function stopAndSummarise(app: { stop(): Promise<void> }, dir: string, window?: { from: number; to: number; cpuUsPerRequest: number }): Promise<void> {
  const before = new Set(readdirSync(dir));
  await app.stop();
  const file = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile') && !before.has(f)).map((f) => join(dir, f))[0]
    ?? readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f)).sort().pop();
  if (file) summarise(file, window);
  if (file && window) printLevers(file, window);
}

/** The lever table: each lever's share of the load window's samples, times the app's CPU per request. */
function printLevers(file: string, w: { from: number; to: number; cpuUsPerRequest: number }): void {
  const { samples, levers } = leversOf(file, w.from, w.to);
  console.log(`\nby lever (${samples} busy samples in the load window, ${w.from}-${w.to} µs on the profile's clock; µs per request = share x ${w.cpuUsPerRequest.toFixed(0)} µs):`);
  for (const l of levers) console.log(`  ${(l.share * w.cpuUsPerRequest).toFixed(0).padStart(6)} µs  ${(100 * l.share).toFixed(1).padStart(5)}%  ${l.lever}`);
}

/** A writer-only instance queues about `seconds` worth of mail; a profiled instance drains it to a local sink. */
async function profileMail(databaseUrl: string, seconds: number, dir: string): Promise<void> {
  const sink = await startSmtpSink();
  // As the bench's mail part: its dispatcher settings when set, 5 connections unless MAIL_SMTP_CONNECTIONS says otherwise.
  const env: NodeJS.ProcessEnv = { SMTP_URL: `smtp://127.0.0.1:${sink.port}`, SMTP_CA_FILE: sink.caFile };
  for (const name of DISPATCHER_SETTINGS) if (process.env[name]) env[name] = process.env[name];
  env.MAIL_SMTP_CONNECTIONS = process.env.MAIL_SMTP_CONNECTIONS ?? '5';
  const variant = { adapter: process.env.HTTP_ADAPTER ?? 'express', audit: process.env.PROFILE_AUDIT === 'on', throttlerStorage: 'memory' as const, mailPort: 'real' as const };
  try {
    const writer = await startChild<AppReady>('app-server', appEnv(databaseUrl, { ...variant, extra: { ...env, MAIL_DISPATCHER: 'false' } }));
    const n = 500 * seconds;
    await writer.request({ cmd: 'issue', n, tag: `prof-mail-${Date.now()}` }, 'issued');
    await writer.stop();
    const from = sink.received.length;
    const app = await startChild<AppReady>('app-server', appEnv(databaseUrl, { ...variant, extra: env }), 60_000, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    const rate = await sinkArrivalRate(sink, from, n, seconds * 20_000);
    console.log(`mail: ${n} messages, ${rate === null ? '-' : rate.toFixed(0)} msg/s at the sink`);
    await stopAndSummarise(app, dir);
  } finally {
    await sink.close();
  }
}

main().catch((err: Error) => {
  console.error(err.stack);
  process.exit(1);
});
