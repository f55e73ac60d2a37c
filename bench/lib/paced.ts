import { Agent } from 'node:http';
import type { LoadResult } from './load';
import { postJson } from './phases';

export interface PacedOptions {
  url: string;
  /** Requests per second, sent evenly: request i is due at start + i / rate. */
  rate: number;
  /** Length in seconds (or until `amount` requests were sent, whichever comes first). */
  seconds: number;
  amount?: number;
  next: () => { path: string; body: string };
  /** Keep-alive connections at most (a request waits for a free one, and its wait counts). */
  maxSockets?: number;
}

/**
 * An open-loop generator at a truly fixed offered load: requests are sent at evenly spaced due
 * times whatever the answers do, and each latency runs from the request's due time to its
 * answer, so a stall counts for every request it delays (no coordinated omission).
 *
 * Why not autocannon's `overallRate` alone: autocannon gives each connection `rate / connections`
 * requests per second and sends them back to back when each second starts (its `httpClient.js`
 * resets a per-second counter on a 1 s interval), and all connections start together. With 32
 * connections, 300 req/s arrive as a burst of 32 concurrent requests at the start of every
 * second, then nothing: its p99 is the time to drain that burst. A plain `node:http` + `pg`
 * server (the ceiling) measured that way shows p99 21 ms at 300 req/s on this machine.
 */
export async function runPaced(o: PacedOptions): Promise<LoadResult> {
  const target = new URL(o.url);
  const agent = new Agent({ keepAlive: true, maxSockets: o.maxSockets ?? 64 });
  const total = Math.min(o.amount ?? Infinity, Math.round(o.rate * o.seconds));
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let sent = 0;
  const start = performance.now();
  const answered: Promise<void>[] = [];

  const port = Number(target.port);
  const send = (due: number): Promise<void> => {
    const { path, body } = o.next();
    return postJson(agent, port, path, body, 10_000).then(
      (status) => {
        latencies.push(performance.now() - due);
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status >= 200 && status < 300) ok++;
        else non2xx++;
      },
      () => void errors++,
    );
  };

  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      // Everything due by now goes out (a late timer sends what it owes at once, with its due times).
      while (sent < total && start + (sent * 1000) / o.rate <= now) answered.push(send(start + (sent++ * 1000) / o.rate));
      if (sent >= total) return done();
      setTimeout(tick, Math.max(0, start + (sent * 1000) / o.rate - performance.now()));
    };
    tick();
  });
  await Promise.all(answered);
  const duration = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] : NaN);
  const round1 = (v: number) => Math.round(v * 10) / 10;
  return { rps: ok / duration, p50Ms: round1(pct(50)), p99Ms: round1(pct(99)), ok, non2xx, errors, statuses };
}
