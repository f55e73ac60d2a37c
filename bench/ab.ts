/**
 * A/B of two builds on one machine: `node dist/bench/ab.js` after `npx tsc -p bench/tsconfig.json` in each
 * checkout. `AB_TREES=/path/a,/path/b` (default: this checkout twice), each tree's own `dist/bench/lib/app-server.js`
 * started as its own app on its own fresh bench database; `AB_ROUTES` (issue, verify, signin), `AB_ADAPTER`
 * (fastify), `AB_ROUNDS` (3), `AB_SECONDS` (5). Rounds are interleaved, the order flipped every round, so a
 * machine that slows down or warms up moves both alike: it prints each build's app CPU per request (from
 * `/proc`) by round, the medians and B / A. On a noisy machine a single run moves by a third; this is the
 * figure to compare two builds with. `AB_EXTRA_A` / `AB_EXTRA_B` (`NAME=value,NAME=value`) add settings to the
 * first / second app's environment: one tree twice with two settings (`AB_EXTRA_B=OTP_AUDIT=off`,
 * `AB_EXTRA_B=MAIL_DISPATCHER=false`) measures what one part of the work costs (the raised rate limits are
 * applied after them and cannot be changed this way).
 */
import { join, resolve } from 'node:path';
import { AppReady, issueRequests, verifyRequests } from './lib/phases';
import type { Child } from './lib/child';
import { appEnv } from './lib/bench-env';
import { openBenchDatabase, BenchDatabase } from './lib/bench-db';
import { cpuMs } from './lib/child';
import { codeSignIns, runFlows } from './lib/flows';
import { LoadResult, median, runLoad } from './lib/load';

type Route = 'issue' | 'verify' | 'signin';

interface Build {
  tree: string;
  db: BenchDatabase;
  app: Child<AppReady>;
  url: string;
  runs: Map<Route, { cpu: number; rps: number; failed: number }[]>;
}

/** The other tree's own child launcher, so its app is its own build. */
function startIn(tree: string, env: NodeJS.ProcessEnv): Promise<Child<AppReady>> {
  const lib = require(join(tree, 'dist/bench/lib/child')) as typeof import('./lib/child');
  return lib.startChild<AppReady>('app-server', env, 60_000);
}

/** `NAME=value,NAME=value` as environment entries. */
function settings(list: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (list ?? '').split(',').filter(Boolean)) {
    const at = part.indexOf('=');
    if (at < 1) throw new Error(`AB_EXTRA_A/B: "${part}" is not NAME=value`);
    out[part.slice(0, at)] = part.slice(at + 1);
  }
  return out;
}

async function main(): Promise<void> {
  const here = resolve(__dirname, '../..');
  const trees = (process.env.AB_TREES ?? `${here},${here}`).split(',').map((t) => resolve(t));
  const routes = (process.env.AB_ROUTES ?? 'issue,verify,signin').split(',') as Route[];
  const adapter = process.env.AB_ADAPTER ?? 'fastify';
  const rounds = Number(process.env.AB_ROUNDS ?? 3);
  const seconds = Number(process.env.AB_SECONDS ?? 5);
  const builds: Build[] = [];
  try {
    for (const [n, tree] of trees.entries()) {
      const db = await openBenchDatabase({ fresh: true });
      const extra = settings(process.env[n === 0 ? 'AB_EXTRA_A' : 'AB_EXTRA_B']);
      const app = await startIn(tree, appEnv(db.url, { adapter, audit: true, throttlerStorage: 'memory', extra }));
      builds.push({ tree, db, app, url: `http://127.0.0.1:${app.ready.port}`, runs: new Map() });
    }
    const issue = (b: Build, s: number, round: number) => runLoad({ url: b.url, connections: 32, seconds: s,
      next: issueRequests('/auth/otp/challenges', `ab-${round}-${Date.now()}`) });
    for (const b of builds) await issue(b, 2, -1); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const route of routes) {
        for (const b of r % 2 ? [...builds].reverse() : builds) {
          const prepared = route === 'issue' ? [] : (await b.app.request<{ pairs: [string, string, string][] }>(
            { cmd: 'prepare', n: (route === 'verify' ? 3000 : 1200) * seconds, tag: `ab-${route}-${r}-${Date.now()}` }, 'prepared')).pairs;
          const cpu0 = cpuMs(b.app.proc.pid!);
          const res: LoadResult = route === 'issue' ? await issue(b, seconds, r)
            : route === 'verify' ? await runLoad({ url: b.url, connections: 32, seconds,
              next: verifyRequests('/auth/otp/challenges', prepared.map(([id, code]) => [id, code]), `${b.tree} verify`) })
              : await runFlows({ port: b.app.ready.port, connections: 32, seconds, flows: codeSignIns(prepared) });
          const done = res.ok + res.non2xx;
          const list = b.runs.get(route) ?? [];
          list.push({ cpu: ((cpuMs(b.app.proc.pid!) - cpu0) * 1000) / Math.max(1, done), rps: res.rps, failed: res.non2xx + res.errors });
          b.runs.set(route, list);
        }
      }
      console.error(`round ${r + 1} of ${rounds} done`);
    }
    for (const route of routes) {
      const med = (b: Build) => median(b.runs.get(route)!.map((x) => x.cpu));
      const line = builds.map((b) => {
        const runs = b.runs.get(route)!;
        return `${b.tree}: CPU µs/req ${med(b).toFixed(0)} [${runs.map((x) => x.cpu.toFixed(0)).join(' ')}], req/s ${median(runs.map((x) => x.rps)).toFixed(0)}, failed ${runs.map((x) => x.failed).join('/')}`;
      });
      console.log(`${route}: ${line.join(' | ')} | B / A ${(med(builds[1]) / med(builds[0])).toFixed(3)}`);
    }
  } finally {
    for (const b of builds) {
      await b.app.stop();
      await b.db.close();
    }
  }
}

main().catch((err: Error) => {
  console.error(err.stack);
  process.exit(1);
});
