/**
 * `PROFILE_ROUTE=pipeline npm run bench:profile`: the limit routes in the example app against the
 * same routes in a bare NestJS app (`bare-nest-server.ts`), same adapter and SQL, rounds
 * interleaved, neither profiled: the app CPU per request of each and their ratio, which is what
 * the app's global pipeline costs (issue 12: at most 1.5x).
 */
import { Pool } from 'pg';
import { insertBareLiveChallenges } from './bench-db';
import { bareNestEnv } from './bench-env';
import { Child, cpuMs, startChild } from './child';
import { median, runLoad } from './load';

interface Target { name: string; child: Child<{ port: number }> }

async function measure(t: Target, pool: Pool, route: 'issue' | 'verify', seconds: number, tag: string): Promise<{ rps: number; cpu: number }> {
  const url = `http://127.0.0.1:${t.child.ready.port}`;
  let i = 0;
  const ids = route === 'verify' ? await insertBareLiveChallenges(pool, 3000 * seconds) : [];
  const cpu0 = cpuMs(t.child.proc.pid!);
  const r = await runLoad({
    // Timed runs, never `amount`: a busy machine answering 50 req/s would take minutes for the prepared ids.
    url, connections: 32, seconds,
    next: () => route === 'issue'
      ? { path: '/bench/limit/challenges', body: JSON.stringify({ email: `pipe-${t.name.replace(/\W/g, '')}-${tag}-${i++}@bench.example.com` }) }
      : { path: `/bench/limit/challenges/${ids[i++ % ids.length]}/verify`, body: JSON.stringify({ code: '000000' }) },
  });
  if (r.non2xx + r.errors > r.ok / 100) console.warn(`  ! ${t.name} ${route}: ${r.non2xx} non-2xx, ${r.errors} errors (${JSON.stringify(r.statuses)})`);
  return { rps: r.rps, cpu: ((cpuMs(t.child.proc.pid!) - cpu0) * 1000) / Math.max(1, r.ok + r.non2xx) };
}

/** Prints, per route, the median req/s and CPU µs/request of the app's limit route and of the bare app's, and their CPU ratio. */
export async function comparePipeline(app: Child<{ port: number }>, env: NodeJS.ProcessEnv, pool: Pool, seconds: number, rounds = 3): Promise<void> {
  const bare = await startChild<{ port: number }>('bare-nest-server', bareNestEnv(env.DATABASE_URL!, env.HTTP_ADAPTER!));
  try {
    const targets: Target[] = [{ name: 'app limit', child: app }, { name: 'bare Nest', child: bare }];
    for (const route of ['issue', 'verify'] as const) {
      for (const t of targets) await measure(t, pool, route, Math.max(2, seconds / 2), 'warm');
      const got = new Map(targets.map((t) => [t.name, { rps: [] as number[], cpu: [] as number[] }]));
      for (let r = 0; r < rounds; r++) {
        for (const t of targets) {
          const m = await measure(t, pool, route, seconds, `${route}-${r}`);
          got.get(t.name)!.rps.push(m.rps);
          got.get(t.name)!.cpu.push(m.cpu);
        }
      }
      const [a, b] = targets.map((t) => got.get(t.name)!);
      for (const t of targets) {
        const g = got.get(t.name)!;
        console.log(`${route} ${t.name.padEnd(10)} median ${median(g.rps).toFixed(0)} req/s, app CPU ${median(g.cpu).toFixed(0)} µs/req (rounds ${g.cpu.map((c) => c.toFixed(0)).join(', ')})`);
      }
      console.log(`${route} limit / bare CPU: ${(median(a.cpu) / median(b.cpu)).toFixed(2)}x`);
    }
  } finally {
    await bare.stop();
  }
}
