/** Ad-hoc (not committed): system calls per code sign-in pair / per issue, counted by perf stat on the app process. */
import { spawn } from 'node:child_process';
import { appEnv } from './lib/bench-env';
import { openBenchDatabase } from './lib/bench-db';
import { startChild } from './lib/child';
import { codeSignIns, runFlows } from './lib/flows';
import { runLoad } from './lib/load';
import { AppReady } from './lib/phases';

async function main(): Promise<void> {
  const db = await openBenchDatabase();
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const route = process.env.SYS_ROUTE ?? 'signin';
  try {
    const env = appEnv(db.url, { adapter: process.env.HTTP_ADAPTER ?? 'fastify', audit: true, throttlerStorage: 'memory', extra: {} });
    const app = await startChild<AppReady>('app-server', env, 60_000, []);
    const url = `http://127.0.0.1:${app.ready.port}`;
    let i = 0;
    await runLoad({ url, connections: 32, seconds: 3, next: () => ({ path: '/auth/otp/challenges', body: JSON.stringify({ email: `warm-${i++}@bench.example.com` }) }) });
    const { pairs } = route === 'signin' ? await app.request<{ pairs: [string, string, string][] }>({ cmd: 'prepare', n: 1500 * seconds, tag: `sys-${Date.now()}` }, 'prepared') : { pairs: [] };
    const events = 'raw_syscalls:sys_enter,syscalls:sys_enter_writev,syscalls:sys_enter_write,syscalls:sys_enter_read,syscalls:sys_enter_futex,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom';
    const perf = spawn('perf', ['stat', '-e', events, '-p', String(app.proc.pid), '--', 'sleep', String(seconds + 1)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let out = '';
    perf.stderr.on('data', (d) => (out += d));
    const r = route === 'signin'
      ? await runFlows({ port: app.ready.port, connections: 32, seconds, flows: codeSignIns(pairs) })
      : await runLoad({ url, connections: 32, seconds, next: () => ({ path: '/auth/otp/challenges', body: JSON.stringify({ email: `s-${i++}@bench.example.com` }) }) });
    await new Promise((resolve) => perf.on('exit', resolve));
    const n = (r as { ok: number }).ok + ((r as { non2xx?: number }).non2xx ?? 0);
    console.log(`${route}: ${n} completed (${r.rps.toFixed(0)}/s)`);
    for (const line of out.split('\n')) {
      const m = /^\s*([\d,]+)\s+(\S+)/.exec(line);
      if (m) console.log(`${m[2].padEnd(36)} ${(Number(m[1].replace(/,/g, '')) / n).toFixed(2)} per ${route === 'signin' ? 'pair' : 'request'}`);
    }
    await app.stop();
  } finally {
    await db.close();
  }
}
void main();
