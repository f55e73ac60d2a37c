import { Agent, request } from 'node:http';
import { Pool } from 'pg';
import { AppFeatures } from './app-server';
import { insertBareLiveChallenges } from './bench-db';
import { Child, cpuMs, withPeakRss } from './child';
import { LoadResult, median, runLoad } from './load';

export interface BenchSettings {
  seconds: number;
  runs: number;
  connections: number;
  warmupSeconds: number;
}

export interface AppReady {
  type: 'ready';
  port: number;
  adapter: string;
  features: AppFeatures;
}

export interface Figure {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Median CPU of the serving process per request, in µs. */
  cpuUsPerRequest: number;
  runs: LoadResult[];
}

export interface RouteFigures {
  otp: Figure;
  limit?: Figure;
  ceiling?: Figure;
  /** The limit routes in a bare NestJS app (same adapter, pool and SQL): limit / bare is the app's global pipeline. */
  bare?: Figure;
}

let tagSeq = 0;
const tag = (what: string) => `${what}-${process.pid}-${++tagSeq}`;

export function figureOf(runs: LoadResult[]): Figure {
  return {
    rps: median(runs.map((r) => r.rps)), p50Ms: median(runs.map((r) => r.p50Ms)), p99Ms: median(runs.map((r) => r.p99Ms)),
    cpuUsPerRequest: median(runs.map((r) => r.cpuUsPerRequest ?? NaN)), runs,
  };
}

function warnIfNot2xx(label: string, r: LoadResult): void {
  if (r.non2xx > 0 || r.errors > 0) {
    console.warn(`  ! ${label}: ${r.non2xx} non-2xx answers, ${r.errors} errors/timeouts (statuses ${JSON.stringify(r.statuses)})`);
  }
}

/** Request builders: each issue a distinct address; each verify a fresh challenge. */
export function issueRequests(prefix: string, t: string): () => { path: string; body: string } {
  let i = 0;
  return () => ({ path: prefix, body: JSON.stringify({ email: `load-${t}-${i++}@bench.example.com` }) });
}

export function verifyRequests(prefix: string, pairs: [string, string][], label: string): () => { path: string; body: string } {
  let i = 0;
  let warned = false;
  return () => {
    if (i >= pairs.length && !warned) {
      warned = true;
      console.warn(`  ! ${label}: ran out of prepared challenges; the rest of the run gets 401s (not counted as throughput)`);
    }
    const [id, code] = pairs[i++ % pairs.length];
    return { path: `${prefix}/${id}/verify`, body: JSON.stringify({ code }) };
  };
}

export async function prepare(app: Child<AppReady>, n: number): Promise<[string, string][]> {
  const { pairs } = await app.request<{ pairs: [string, string][] }>({ cmd: 'prepare', n, tag: tag('p') }, 'prepared');
  return pairs;
}

export interface IssueVerifyOptions {
  app: Child<AppReady>;
  ceilingPort?: number;
  ceilingPid?: number;
  /** The bare NestJS app (`bare-nest-server.ts`) on the same adapter, measured with the limit routes. */
  bare?: { port: number; pid: number };
  pool: Pool;
  s: BenchSettings;
  /** Also measure the limit and ceiling routes, interleaved with the OTP runs. */
  withLimits: boolean;
  label: string;
}

/** Issue then verify: OTP, limit and ceiling runs interleaved round by round; medians; peak RSS of the app. */
export async function measureIssueVerify(o: IssueVerifyOptions): Promise<{ issue: RouteFigures; verify: RouteFigures; peakRssMb: number }> {
  const { app, s } = o;
  const base = (port: number) => `http://127.0.0.1:${port}`;
  const appUrl = base(app.ready.port);
  const bareUrl = o.bare ? base(o.bare.port) : undefined;
  const pidOf = (url: string) => (url === appUrl ? app.proc.pid! : url === bareUrl ? o.bare!.pid : o.ceilingPid!);
  const load = async (url: string, next: () => { path: string; body: string }, seconds = s.seconds, amount?: number) => {
    const cpu0 = cpuMs(pidOf(url));
    const r = await runLoad({ url, connections: s.connections, seconds, amount, next });
    r.cpuUsPerRequest = ((cpuMs(pidOf(url)) - cpu0) * 1000) / Math.max(1, r.ok + r.non2xx);
    return r;
  };
  let peak = 0;
  const otpRun = async (label: string, fn: () => Promise<LoadResult>) => {
    const { result, peakMb } = await withPeakRss(app.proc.pid!, fn);
    peak = Math.max(peak, peakMb);
    warnIfNot2xx(label, result);
    return result;
  };
  // Index 0 the limit, then the ceiling and the bare Nest app when given.
  const limitTargets = o.withLimits ? [appUrl, ...(o.ceilingPort ? [base(o.ceilingPort)] : []), ...(bareUrl ? [bareUrl] : [])] : [];
  const kind = (k: number) => (k === 0 ? 'limit' : limitTargets[k] === bareUrl ? 'bare' : 'ceiling');

  // Issue.
  await load(appUrl, issueRequests('/auth/otp/challenges', tag('w')), s.warmupSeconds);
  for (const url of limitTargets) await load(url, issueRequests('/bench/limit/challenges', tag('w')), s.warmupSeconds);
  const issue = { otp: [] as LoadResult[], limit: [] as LoadResult[], ceiling: [] as LoadResult[], bare: [] as LoadResult[] };
  for (let r = 0; r < s.runs; r++) {
    issue.otp.push(await otpRun(`${o.label} issue`, () => load(appUrl, issueRequests('/auth/otp/challenges', tag('i')))));
    for (const [k, url] of limitTargets.entries()) {
      const res = await load(url, issueRequests('/bench/limit/challenges', tag('l')));
      warnIfNot2xx(`${o.label} issue ${kind(k)}`, res);
      issue[kind(k)].push(res);
    }
  }

  // Verify: every request a fresh challenge with its right code, prepared beforehand.
  // A verify run sends exactly its prepared challenges (autocannon `amount`): about `seconds` at the
  // best rate seen so far, never a reused one.
  const sized = (rps: number, secs: number) => Math.ceil(Math.max(rps, 300) * secs * 1.5);
  const warm = await prepare(app, 2500 * s.warmupSeconds);
  const w = await load(appUrl, verifyRequests('/auth/otp/challenges', warm, 'verify warm-up'), s.warmupSeconds);
  let estimate = w.rps;
  const limitEstimates: number[] = [];
  for (const url of limitTargets) {
    const ids = await insertBareLiveChallenges(o.pool, 6000 * s.warmupSeconds);
    const lw = await load(url, verifyRequests('/bench/limit/challenges', ids.map((id) => [id, '000000']), 'limit warm-up'), s.warmupSeconds);
    limitEstimates.push(lw.rps);
  }
  const verify = { otp: [] as LoadResult[], limit: [] as LoadResult[], ceiling: [] as LoadResult[], bare: [] as LoadResult[] };
  for (let r = 0; r < s.runs; r++) {
    const pairs = await prepare(app, sized(estimate, s.seconds));
    const res = await otpRun(`${o.label} verify`, () => load(appUrl, verifyRequests('/auth/otp/challenges', pairs, `${o.label} verify`), s.seconds, pairs.length));
    verify.otp.push(res);
    estimate = Math.max(estimate, res.rps);
    for (const [k, url] of limitTargets.entries()) {
      const ids = await insertBareLiveChallenges(o.pool, sized(limitEstimates[k], s.seconds));
      const lr = await load(url, verifyRequests('/bench/limit/challenges', ids.map((id) => [id, '000000']), `${o.label} verify ${kind(k)}`), s.seconds, ids.length);
      warnIfNot2xx(`${o.label} verify ${kind(k)}`, lr);
      limitEstimates[k] = Math.max(limitEstimates[k], lr.rps);
      verify[kind(k)].push(lr);
    }
  }
  const figures = (x: typeof issue): RouteFigures => ({
    otp: figureOf(x.otp),
    limit: x.limit.length ? figureOf(x.limit) : undefined,
    ceiling: x.ceiling.length ? figureOf(x.ceiling) : undefined,
    bare: x.bare.length ? figureOf(x.bare) : undefined,
  });
  return { issue: figures(issue), verify: figures(verify), peakRssMb: peak };
}

/**
 * Verify latency with a fixed number of requests (the scale part), timed per request with
 * hrtime: autocannon reports whole milliseconds, too coarse for a 10 % comparison.
 */
export async function verifyP50(app: Child<AppReady>, n: number, connections: number): Promise<LoadResult> {
  const pairs = await prepare(app, n);
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: connections }, async () => {
    while (next < pairs.length) {
      const [id, code] = pairs[next++];
      const t0 = process.hrtime.bigint();
      const status = await postJson(agent, app.ready.port, `/auth/otp/challenges/${id}/verify`, JSON.stringify({ code }));
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  }));
  agent.destroy();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const ok = statuses['200'] ?? 0;
  const sorted = latencies.sort((a, b) => a - b);
  const r: LoadResult = {
    rps: ok / seconds, p50Ms: median(sorted), p99Ms: sorted[Math.floor(sorted.length * 0.99)],
    ok, non2xx: latencies.length - ok, errors: 0, statuses,
  };
  warnIfNot2xx('scale verify', r);
  return r;
}

/** One JSON POST to 127.0.0.1: its status once the answer has ended (a request older than `timeoutMs` is dropped: an error). */
export function postJson(agent: Agent, port: number, path: string, body: string, timeoutMs?: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, timeout: timeoutMs,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.end(body);
  });
}
