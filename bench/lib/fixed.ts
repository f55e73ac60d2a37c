import type { Pool } from 'pg';
import { databaseCpuMs } from './bench-db';
import { Child, cpuMs } from './child';
import { LoadResult, median, runLoad } from './load';
import { runPaced } from './paced';
import { AppReady, BenchSettings, prepare } from './phases';

/** Latency at a fixed offered load: where p99 means something. */
export interface FixedRateFigure {
  rate: number;
  /** The target's figures: evenly paced open-loop requests (`paced.ts`), latency from each request's due time. */
  p50Ms: number;
  p99Ms: number;
  generator: 'paced';
  /** CPU per answered request in the paced runs (medians): the app's, and PostgreSQL's (every server process on the bench database). */
  cpuUsPerRequest?: number;
  dbCpuUsPerRequest?: number;
  /** The same offered load through autocannon `overallRate` (bursts at each second's start, see `paced.ts`), for comparison. */
  autocannon?: { connections: number; p50Ms: number; p99Ms: number };
}

/** The issue's target load: 300 req/s, issue and verify, on each adapter. */
export const FIXED_RATE = 300;

let seq = 0;
const tag = () => `fx-${process.pid}-${Date.now()}-${++seq}`;

type Generator = 'paced' | 'autocannon';
type Measured = LoadResult & { dbCpuUsPerRequest?: number };

/** `load`, with the CPU the app (`pid`) and PostgreSQL (`pool`'s database) used per answered request meanwhile. */
async function withCpu(pid: number, pool: Pool, load: () => Promise<LoadResult>): Promise<Measured> {
  const app0 = cpuMs(pid);
  const db0 = await databaseCpuMs(pool);
  const r = await load();
  const db1 = await databaseCpuMs(pool);
  const answered = Math.max(1, r.ok + r.non2xx);
  const dbMs = [...db1].reduce((sum, [p, ms]) => sum + ms - (db0.get(p) ?? 0), 0);
  return { ...r, cpuUsPerRequest: ((cpuMs(pid) - app0) * 1000) / answered, dbCpuUsPerRequest: (dbMs * 1000) / answered };
}

function figureOf(rate: number, runs: Record<Generator, Measured[]>, connections: number, label: string, log: (line: string) => void): FixedRateFigure {
  for (const [gen, list] of Object.entries(runs)) {
    for (const r of list) {
      if (r.non2xx || r.errors) log(`  ! fixed ${label} (${gen}): ${r.non2xx} non-2xx, ${r.errors} errors (${JSON.stringify(r.statuses)})`);
    }
    const cpu = list.some((r) => r.cpuUsPerRequest !== undefined)
      ? `, CPU µs/req app ${list.map((r) => r.cpuUsPerRequest?.toFixed(0)).join('/')}, PostgreSQL ${list.map((r) => r.dbCpuUsPerRequest?.toFixed(0)).join('/')}` : '';
    log(`  fixed ${label} (${gen}): offered ${rate}/s, answered ${list.map((r) => r.rps.toFixed(0)).join('/')} req/s, p50 ${list.map((r) => r.p50Ms).join('/')} ms, p99 ${list.map((r) => r.p99Ms).join('/')} ms${cpu}`);
  }
  const m = (list: LoadResult[], k: 'p50Ms' | 'p99Ms') => median(list.map((r) => r[k]));
  return {
    rate, p50Ms: m(runs.paced, 'p50Ms'), p99Ms: m(runs.paced, 'p99Ms'), generator: 'paced',
    ...(runs.paced.some((r) => r.cpuUsPerRequest !== undefined) ? {
      cpuUsPerRequest: median(runs.paced.map((r) => r.cpuUsPerRequest ?? NaN)),
      dbCpuUsPerRequest: median(runs.paced.map((r) => r.dbCpuUsPerRequest ?? NaN)),
    } : {}),
    ...(runs.autocannon.length ? { autocannon: { connections, p50Ms: m(runs.autocannon, 'p50Ms'), p99Ms: m(runs.autocannon, 'p99Ms') } } : {}),
  };
}

/** One run of `seconds` at `rate` against `url`, through either generator. */
export function fixedLoad(gen: Generator, o: { url: string; rate: number; seconds: number; connections: number; amount?: number; next: () => { path: string; body: string } }): Promise<LoadResult> {
  return gen === 'paced'
    ? runPaced({ url: o.url, rate: o.rate, seconds: o.seconds, amount: o.amount, next: o.next })
    : runLoad({ url: o.url, connections: o.connections, seconds: o.amount ? o.seconds * 3 : o.seconds, amount: o.amount, overallRate: o.rate, next: o.next });
}

/**
 * Issue then verify at `rate` req/s, `runs` rounds of `seconds`, each round through the paced
 * generator (the target) and autocannon `overallRate` (for comparison), interleaved; medians.
 */
export async function measureFixedRate(app: Child<AppReady>, s: BenchSettings, log: (line: string) => void, rate = FIXED_RATE, pool?: Pool): Promise<{ issue: FixedRateFigure; verify: FixedRateFigure }> {
  const url = `http://127.0.0.1:${app.ready.port}`;
  const issue = (gen: Generator, seconds: number) => {
    const t = tag();
    let i = 0;
    return fixedLoad(gen, { url, rate, seconds, connections: s.connections,
      next: () => ({ path: '/auth/otp/challenges', body: JSON.stringify({ email: `fixed-${t}-${i++}@bench.example.com` }) }) });
  };
  // Each verify a fresh challenge with its right code, prepared before the run (outside its CPU count).
  const preparePairs = (seconds = s.seconds) => prepare(app, Math.ceil(rate * seconds));
  const verify = (gen: Generator, seconds: number, pairs: [string, string][]) => {
    let i = 0;
    return fixedLoad(gen, { url, rate, seconds, connections: s.connections, amount: pairs.length,
      next: () => {
        const [id, code] = pairs[i++ % pairs.length];
        return { path: `/auth/otp/challenges/${id}/verify`, body: JSON.stringify({ code }) };
      } });
  };
  const gens: Generator[] = ['paced', 'autocannon'];
  for (const gen of gens) {
    await issue(gen, s.warmupSeconds);
    await verify(gen, s.warmupSeconds, await preparePairs(s.warmupSeconds));
  }
  const runs = { issue: { paced: [], autocannon: [] } as Record<Generator, Measured[]>, verify: { paced: [], autocannon: [] } as Record<Generator, Measured[]> };
  for (let r = 0; r < s.runs; r++) {
    for (const gen of gens) {
      // The paced runs (the target's) also count CPU: the app's and PostgreSQL's, per request.
      const measured = (load: () => Promise<LoadResult>): Promise<Measured> => (gen === 'paced' && pool ? withCpu(app.proc.pid!, pool, load) : load());
      runs.issue[gen].push(await measured(() => issue(gen, s.seconds)));
      const pairs = await preparePairs();
      runs.verify[gen].push(await measured(() => verify(gen, s.seconds, pairs)));
    }
  }
  return { issue: figureOf(rate, runs.issue, s.connections, 'issue', log), verify: figureOf(rate, runs.verify, s.connections, 'verify', log) };
}

/** The ceiling (plain node:http + pg, the limit's SQL) under the same offered load through both generators: the floor either one can show. */
export async function measureFixedCeiling(port: number, s: BenchSettings, log: (line: string) => void, rate = FIXED_RATE): Promise<{ paced: { p50Ms: number; p99Ms: number }; autocannon: { connections: number; p50Ms: number; p99Ms: number } }> {
  const url = `http://127.0.0.1:${port}`;
  let i = 0;
  const t = tag();
  const next = () => ({ path: '/bench/limit/challenges', body: JSON.stringify({ email: `fixed-${t}-${i++}@bench.example.com` }) });
  await fixedLoad('paced', { url, rate, seconds: s.warmupSeconds, connections: s.connections, next });
  const paced: LoadResult[] = [];
  const burst: LoadResult[] = [];
  for (let r = 0; r < s.runs; r++) {
    paced.push(await fixedLoad('paced', { url, rate, seconds: s.seconds, connections: s.connections, next }));
    burst.push(await fixedLoad('autocannon', { url, rate, seconds: s.seconds, connections: s.connections, next }));
  }
  log(`  fixed ceiling issue: paced p99 ${paced.map((r) => r.p99Ms).join('/')} ms, autocannon (${s.connections} conn.) p99 ${burst.map((r) => r.p99Ms).join('/')} ms`);
  const m = (list: LoadResult[], k: 'p50Ms' | 'p99Ms') => median(list.map((r) => r[k]));
  return { paced: { p50Ms: m(paced, 'p50Ms'), p99Ms: m(paced, 'p99Ms') }, autocannon: { connections: s.connections, p50Ms: m(burst, 'p50Ms'), p99Ms: m(burst, 'p99Ms') } };
}
