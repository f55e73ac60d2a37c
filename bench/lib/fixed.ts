import { Child } from './child';
import { LoadResult, median, runLoad } from './load';
import { AppReady, BenchSettings, prepare } from './phases';

/** Latency at a fixed offered load (autocannon `overallRate`): where p99 means something. */
export interface FixedRateFigure {
  rate: number;
  p50Ms: number;
  p99Ms: number;
}

/** The issue's target load: 300 req/s, issue and verify, on each adapter. */
export const FIXED_RATE = 300;

let seq = 0;
const tag = () => `fx-${process.pid}-${Date.now()}-${++seq}`;

function figureOf(rate: number, runs: LoadResult[], label: string, log: (line: string) => void): FixedRateFigure {
  for (const r of runs) {
    if (r.non2xx || r.errors) log(`  ! fixed ${label}: ${r.non2xx} non-2xx, ${r.errors} errors (${JSON.stringify(r.statuses)})`);
  }
  log(`  fixed ${label}: offered ${rate}/s, answered ${runs.map((r) => r.rps.toFixed(0)).join('/')} req/s, p99 ${runs.map((r) => r.p99Ms).join('/')} ms`);
  return { rate, p50Ms: median(runs.map((r) => r.p50Ms)), p99Ms: median(runs.map((r) => r.p99Ms)) };
}

/** Issue then verify at `rate` req/s over all connections, `runs` rounds of `seconds` interleaved; medians. */
export async function measureFixedRate(app: Child<AppReady>, s: BenchSettings, log: (line: string) => void, rate = FIXED_RATE): Promise<{ issue: FixedRateFigure; verify: FixedRateFigure }> {
  const url = `http://127.0.0.1:${app.ready.port}`;
  const issue = (seconds: number) => {
    const t = tag();
    let i = 0;
    return runLoad({ url, connections: s.connections, seconds, overallRate: rate,
      next: () => ({ path: '/auth/otp/challenges', body: JSON.stringify({ email: `fixed-${t}-${i++}@bench.example.com` }) }) });
  };
  const verify = async (seconds: number) => {
    const pairs = await prepare(app, Math.ceil(rate * seconds));
    let i = 0;
    return runLoad({ url, connections: s.connections, seconds: seconds * 3, amount: pairs.length, overallRate: rate,
      next: () => {
        const [id, code] = pairs[i++ % pairs.length];
        return { path: `/auth/otp/challenges/${id}/verify`, body: JSON.stringify({ code }) };
      } });
  };
  await issue(s.warmupSeconds);
  await verify(s.warmupSeconds);
  const runs = { issue: [] as LoadResult[], verify: [] as LoadResult[] };
  for (let r = 0; r < s.runs; r++) {
    runs.issue.push(await issue(s.seconds));
    runs.verify.push(await verify(s.seconds));
  }
  return { issue: figureOf(rate, runs.issue, 'issue', log), verify: figureOf(rate, runs.verify, 'verify', log) };
}
