import { Agent, request } from 'node:http';
import { Child, rssMb, startChild } from './child';
import type { SmtpSink } from './mail-bench';
import { AppReady } from './phases';

/** Memory over a long fixed load (BENCH_SOAK_SECONDS): one sample a minute. */
export interface SoakFigure {
  seconds: number;
  rssMbByMinute: number[];
  heapMbByMinute: number[];
  /** Last minute's RSS / minute 3's, minus 1 (target within ±0.10). */
  rssGrowth: number;
}

/** The sink side of the soak (`code-sink.ts`, its own process): every code mailed, by recipient, read from the message as a user would. */
export async function startCodeSink(): Promise<{ sink: SmtpSink; codes: Map<string, string>; unread: () => number }> {
  const codes = new Map<string, string>();
  const received: number[] = [];
  let unread = 0;
  const child = await startChild<{ type: 'ready'; port: number; caFile: string }>('code-sink', { PATH: process.env.PATH, TMPDIR: process.env.TMPDIR });
  child.proc.on('message', (m: { type?: string; rcpt?: string; code?: string }) => {
    if (m.type === 'code') {
      received.push(Date.now());
      codes.set(m.rcpt!, m.code!);
    } else if (m.type === 'unread') {
      received.push(Date.now());
      unread++;
    }
  });
  const sink: SmtpSink = { port: child.ready.port, caFile: child.ready.caFile, received, close: () => child.stop() };
  return { sink, codes, unread: () => unread };
}

export interface SoakOptions {
  app: Child<AppReady>;
  codes: Map<string, string>;
  /** Messages at the sink so far, and those without a readable code. */
  mailed: () => { received: number; unread: number };
  seconds: number;
  rate: number;
  connections: number;
  log: (line: string) => void;
}

function post(agent: Agent, port: number, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> | null }> {
  return new Promise((resolve) => {
    const data = JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, timeout: 10_000,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let json: Record<string, unknown> | null = null;
        try { json = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { json = null; }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', () => resolve({ status: 0, json: null }));
    req.on('timeout', () => req.destroy());
    req.end(data);
  });
}

/**
 * How many people sign in during the soak (`BENCH_SOAK_ADDRESSES`, default 20,000): the issue
 * requests cycle through them, so each address asks a code every two minutes or so (150 issues/s),
 * within the production per-recipient limits (1 a minute, 20 a day; 10 verifies per 10 minutes).
 * The in-memory throttler holds a counter per address and window (the daily one for a day), so its
 * size follows the number of distinct addresses, not the number of requests: with 20,000 every
 * address has been seen by minute 2.5 and minute 3, the soak's reference, is past the working set;
 * with 50,000 (the default until 2026-12-01) the store kept filling until minute 8, as it should,
 * and the growth from minute 3 measured the soak's design, not a leak (the heap was flat from
 * minute 7 to 10). `0`: a new address for every issue, as a client spraying addresses would do:
 * then the per-recipient counters grow with the requests until `rateLimits.memoryMaxKeys`, and the
 * soak shows that growth instead of a plateau.
 */
const SOAK_ADDRESSES = process.env.BENCH_SOAK_ADDRESSES === undefined ? 20_000 : Math.max(0, Math.floor(Number(process.env.BENCH_SOAK_ADDRESSES) || 0));

/** An address whose challenge was answered and whose code has arrived. */
function firstReady(codes: Map<string, string>, pending: Map<string, string>): string | undefined {
  for (const email of codes.keys()) if (pending.has(email)) return email;
  return undefined;
}

/**
 * Open-loop load at `rate` req/s for `seconds`: issue and verify in turn (a verify when a mailed
 * code is waiting at the sink, an issue otherwise), RSS and heap-after-GC sampled each minute.
 */
export async function runSoak(o: SoakOptions): Promise<SoakFigure & { statuses: Record<string, number> }> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const port = o.app.ready.port;
  const statuses: Record<string, number> = {};
  const pending = new Map<string, string>(); // email -> challenge id, until its code arrives
  const count = (k: string) => (statuses[k] = (statuses[k] ?? 0) + 1);
  let n = 0;
  let launched = 0;
  let turn = 0;
  const fire = () => {
    const ready = turn++ % 2 === 1 ? firstReady(o.codes, pending) : undefined;
    if (ready) {
      const id = pending.get(ready)!;
      const code = o.codes.get(ready)!;
      pending.delete(ready);
      o.codes.delete(ready);
      void post(agent, port, `/auth/otp/challenges/${id}/verify`, { code }).then((r) => count(`verify ${r.status}`));
      return;
    }
    const email = `soak-${process.pid}-${SOAK_ADDRESSES > 0 ? n++ % SOAK_ADDRESSES : n++}@bench.example.com`;
    void post(agent, port, '/auth/otp/challenges', { email }).then((r) => {
      count(`issue ${r.status}`);
      if (r.status === 202 && typeof r.json?.challengeId === 'string') pending.set(email, r.json.challengeId);
    });
  };
  const rss: number[] = [];
  const heap: number[] = [];
  const started = Date.now();
  let sampling: Promise<void> = Promise.resolve();
  const sample = async () => {
    const h = await o.app.request<{ heapMb: number; counts: Record<string, number> }>({ cmd: 'heap' }, 'heap');
    rss.push(rssMb(o.app.proc.pid!) ?? NaN);
    heap.push(h.heapMb);
    o.log(`  soak minute ${rss.length}: RSS ${rss.at(-1)!.toFixed(0)} MB, heap after GC ${h.heapMb.toFixed(1)} MB, held ${JSON.stringify(h.counts)}, answers ${JSON.stringify(statuses)}, ${pending.size} codes in flight, mail at the sink ${JSON.stringify(o.mailed())}`);
  };
  await new Promise<void>((resolve) => {
    let nextSample = started + 60_000;
    const timer = setInterval(() => {
      const now = Date.now();
      const due = Math.floor(((now - started) / 1000) * o.rate);
      while (launched < due) {
        launched++;
        fire();
      }
      if (now >= nextSample) {
        nextSample += 60_000;
        sampling = sample();
      }
      if (now - started >= o.seconds * 1000) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  await sampling;
  agent.destroy();
  const minute3 = rss[2] ?? NaN;
  return { seconds: o.seconds, rssMbByMinute: rss, heapMbByMinute: heap, rssGrowth: rss.at(-1)! / minute3 - 1, statuses };
}
