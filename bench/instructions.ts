/**
 * `npm run bench:instructions`: instructions per request, counted by valgrind's callgrind, of one route
 * of one or more builds. The app runs under `valgrind --tool=callgrind --instr-atstart=no`: it boots and
 * warms up (`INSTR_WARMUP` requests, 4 at a time) uninstrumented, then counts `INSTR_REQUESTS` requests sent
 * one at a time (instrumentation switched on and off around them by `callgrind_control`), with what the
 * process does meanwhile (audit flushes, mail dispatch). A count, not a time: the same build reads the same
 * within about a per cent on a busy machine, so a change of a few per cent shows, which the CPU-time A/B
 * (`bench/ab.ts`, where rounds move by a third here) cannot tell from noise. One request at a time means
 * batches of one: it measures the code's own work, not group commit's sharing (the CPU figures of
 * `npm run bench` do that).
 *
 * `INSTR_TREES=/path/a,/path/b` (default: this checkout), each built (`npx tsc -p bench/tsconfig.json`);
 * `INSTR_ROUTE` issue | verify | signin | limit | bare, or several separated by commas (default verify): `limit` is
 * the example app's bare issue route (`POST /bench/limit/challenges`, the issue route's SQL without its logic, behind
 * the app's whole global stack), `bare` the same route in a bare NestJS app (`bench/lib/bare-nest-server.ts`). With
 * `INSTR_ROUTE=bare,limit,issue` the run also prints limit / bare (what the app's global stack costs) and issue /
 * limit (what the route's own work costs): issue 12's two ratio targets as counts, which CPU time on this machine
 * cannot tell apart within ten per cent. `INSTR_APP_ENV='NAME=value;NAME=value'` adds variables to the app's
 * environment, for diagnostics (`LOG_LEVEL=warn`: no access line written). `INSTR_ADAPTER` (fastify); `INSTR_REQUESTS` (200);
 * `INSTR_WARMUP` (1500). Needs valgrind (`callgrind_control` comes with it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { appEnv, bareNestEnv } from './lib/bench-env';
import { openBenchDatabase } from './lib/bench-db';
import { startChild } from './lib/child';
import { codeSignIns, Flow, runFlows } from './lib/flows';
import { AppReady } from './lib/phases';

const ROUTES = ['issue', 'verify', 'signin', 'limit', 'bare'] as const;
type Route = (typeof ROUTES)[number];

const BENCH_LIB = join(__dirname, 'lib');

/** Flows of `route`, `n` of them, from challenges the app prepared when the route needs them. */
async function flowsOf(route: Route, app: { request<T>(m: Record<string, unknown>, reply: string, timeoutMs?: number): Promise<T> }, n: number, tag: string): Promise<Flow[]> {
  if (route === 'issue' || route === 'limit' || route === 'bare') {
    const path = route === 'issue' ? '/auth/otp/challenges' : '/bench/limit/challenges';
    return Array.from({ length: n }, (_, i) => async (post) => (await post(path, { email: `instr-${tag}-${i}@bench.example.com` })).status === 202);
  }
  const { pairs } = await app.request<{ pairs: [string, string, string][] }>({ cmd: 'prepare', n, tag }, 'prepared', 600_000);
  if (route === 'signin') return codeSignIns(pairs);
  return pairs.map(([id, code]) => async (post) => (await post(`/auth/otp/challenges/${id}/verify`, { code })).status === 200);
}

/** `INSTR_APP_ENV`: `NAME=value` pairs separated by semicolons, added to the app's environment. */
function appEnvExtra(): NodeJS.ProcessEnv {
  const pairs = (process.env.INSTR_APP_ENV ?? '').split(';').map((p) => p.trim()).filter(Boolean);
  return Object.fromEntries(pairs.map((pair) => {
    const at = pair.indexOf('=');
    if (at < 1) throw new Error(`INSTR_APP_ENV: NAME=value pairs separated by semicolons, not "${pair}"`);
    return [pair.slice(0, at), pair.slice(at + 1)];
  }));
}

async function countIn(tree: string, route: Route, adapter: string, requests: number, warmup: number): Promise<{ perRequest: number; failed: number }> {
  const db = await openBenchDatabase({ fresh: true });
  const out = join(__dirname, '../../bench/results', `callgrind.${route}.${process.pid}.${Date.now()}.out`);
  // This harness's launcher, the tree's own app (its dist/bench/lib/app-server.js and the dist/src beside it).
  // The bare NestJS app for `bare`: the same route, TypeORM pool and adapter, nothing else.
  const name = join(relative(BENCH_LIB, join(tree, 'dist/bench/lib')), route === 'bare' ? 'bare-nest-server' : 'app-server');
  const env = route === 'bare'
    ? bareNestEnv(db.url, adapter)
    : appEnv(db.url, { adapter, audit: true, throttlerStorage: 'memory', extra: appEnvExtra() });
  const app = await startChild<AppReady>(name, env, 600_000, [],
    ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${out}`]);
  try {
    const port = app.ready.port;
    const tag = `${Date.now()}`;
    const warm = await flowsOf(route, app, warmup, `w${tag}`);
    await runFlows({ port, connections: 4, seconds: 3600, flows: warm });
    // Prepared after the warm-up, so a slow one cannot let them expire before they are counted.
    const measured = await flowsOf(route, app, requests, `m${tag}`);
    // What the warm-up left (its mails, its audit rows) is done before counting starts.
    await new Promise((r) => setTimeout(r, 5000));
    execFileSync('callgrind_control', ['-i', 'on', String(app.proc.pid)], { stdio: 'ignore' });
    const r = await runFlows({ port, connections: 1, seconds: 3600, flows: measured });
    execFileSync('callgrind_control', ['-i', 'off', String(app.proc.pid)], { stdio: 'ignore' });
    await app.stop();
    const failed = r.non2xx + r.errors;
    if (failed > 0) throw new Error(`${failed} of the ${requests} counted requests failed: the count would not be of the route's work`);
    // The main thread's count (its own file, `-01`): V8's compiler and GC helper threads run when they will.
    const file = `${out}-01`;
    const total = existsSync(file) ? /^totals: (\d+)/m.exec(readFileSync(file, 'utf8'))?.[1] : undefined;
    if (!total) throw new Error(`callgrind wrote no count for the main thread:\n${app.output.join('').slice(-2000)}`);
    return { perRequest: Number(total) / requests, failed };
  } finally {
    await app.stop();
    await db.close();
  }
}

async function main(): Promise<void> {
  const here = resolve(__dirname, '../..');
  const trees = (process.env.INSTR_TREES ?? here).split(',').map((t) => resolve(t));
  const routes = (process.env.INSTR_ROUTE ?? 'verify').split(',').map((r) => r.trim()) as Route[];
  for (const route of routes) if (!ROUTES.includes(route)) throw new Error(`INSTR_ROUTE: ${ROUTES.join(', ')} (or several, with commas), not ${route}`);
  const adapter = process.env.INSTR_ADAPTER ?? 'fastify';
  const requests = Number(process.env.INSTR_REQUESTS ?? 200);
  const warmup = Number(process.env.INSTR_WARMUP ?? 1500);
  mkdirSync(join(__dirname, '../../bench/results'), { recursive: true });
  const byRoute = new Map<Route, number[]>();
  for (const route of routes) {
    const counts: number[] = [];
    for (const tree of trees) {
      const { perRequest, failed } = await countIn(tree, route, adapter, requests, warmup);
      counts.push(perRequest);
      console.log(`${route} (${adapter}), ${tree}: ${(perRequest / 1e6).toFixed(3)} M instructions per ${route === 'signin' ? 'pair' : 'request'} (${requests} counted, ${failed} failed)`);
    }
    if (counts.length === 2) console.log(`${route}: B / A ${(counts[1] / counts[0]).toFixed(3)}`);
    byRoute.set(route, counts);
  }
  // The two ratio targets of issue 12, per tree, when the run counted their routes.
  const ratio = (a: Route, b: Route, what: string) => {
    if (!byRoute.has(a) || !byRoute.has(b)) return;
    trees.forEach((tree, i) => console.log(`${a} / ${b} (${what}), ${tree}: ${(byRoute.get(a)![i] / byRoute.get(b)![i]).toFixed(2)}`));
  };
  ratio('limit', 'bare', 'the app\'s global stack; target at most 1.5');
  ratio('issue', 'limit', 'the issue route\'s own work; target at most 1.5');
}

main().catch((err: Error) => {
  console.error(err.stack);
  process.exit(1);
});
