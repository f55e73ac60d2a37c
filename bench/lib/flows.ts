import { Agent, request } from 'node:http';
import { LoadResult, median } from './load';

/** One answer: its status and parsed JSON body (when it has one). */
export interface Answer {
  status: number;
  json: Record<string, unknown> | null;
}

export type Post = (path: string, body: unknown, headers?: Record<string, string>) => Promise<Answer>;

/** A flow is one user action of one or more requests; true when it completed. */
export type Flow = (post: Post) => Promise<boolean>;

export interface FlowOptions {
  port: number;
  connections: number;
  /** Upper bound on the run; it also ends when `flows` runs out. */
  seconds: number;
  flows: Flow[];
  /** Sent with every request. */
  headers?: Record<string, string>;
}

function poster(agent: Agent, port: number, common: Record<string, string>): Post {
  return (path, body, headers = {}) => new Promise((resolve, reject) => {
    const data = JSON.stringify(body);
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent,
      headers: { ...common, ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let json: Record<string, unknown> | null = null;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

/**
 * Closed-loop load of whole flows (`connections` at a time, each flow's latency end to end, timed
 * with hrtime). The same client for ours and the peer's, so a two-request sign-in and a
 * one-request one are timed alike. `rps` counts completed flows.
 */
export async function runFlows(o: FlowOptions): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const post = poster(agent, o.port, o.headers ?? {});
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  let errors = 0;
  let next = 0;
  const started = process.hrtime.bigint();
  const until = Date.now() + o.seconds * 1000;
  await Promise.all(Array.from({ length: o.connections }, async () => {
    while (next < o.flows.length && Date.now() < until) {
      const flow = o.flows[next++];
      const t0 = process.hrtime.bigint();
      try {
        if (await flow(post)) ok++;
        else failed++;
      } catch {
        errors++;
      }
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }));
  agent.destroy();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const sorted = latencies.sort((a, b) => a - b);
  return {
    rps: ok / seconds, p50Ms: median(sorted), p99Ms: sorted[Math.floor(sorted.length * 0.99)] ?? NaN,
    ok, non2xx: failed, errors, statuses: { completed: ok, failed },
  };
}

/** Our code sign-in: verify, then `POST /accounts/sessions` with the proof token (one completed pair per prepared challenge). */
export function codeSignIns(pairs: [string, string, string][]): Flow[] {
  return pairs.map(([id, code, email]) => async (post) => {
    const v = await post(`/auth/otp/challenges/${id}/verify`, { code });
    const token = v.json?.token;
    if (v.status !== 200 || typeof token !== 'string') return false;
    return (await post('/accounts/sessions', { email }, { 'x-otp-token': token })).status === 201;
  });
}
