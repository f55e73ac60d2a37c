// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<AutocannonResult>;

interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
  latency: { p50: number; p99: number };
  statusCodeStats?: Record<string, { count: number }>;
}

export interface LoadResult {
  /** 2xx answers per second (other answers are not throughput). */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  non2xx: number;
  errors: number;
  statuses: Record<string, number>;
  /** CPU the server process used per answered request, in microseconds (robust to a noisy machine). */
  cpuUsPerRequest?: number;
}

export interface LoadOptions {
  url: string;
  connections: number;
  /** Length in seconds; ignored when `amount` is set. */
  seconds: number;
  amount?: number;
  /** Builds the next request; called once per request. */
  next: () => { path: string; body: string };
  /** Extra request headers (the peer's proxy and origin headers). */
  headers?: Record<string, string>;
  /** Fixed offered load over all connections, requests/s (autocannon `overallRate`); unset: as fast as answered. */
  overallRate?: number;
}

/** Runs autocannon on 127.0.0.1 with JSON POSTs built by `next`. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const r = await autocannon({
    url: o.url,
    connections: o.connections,
    pipelining: 1,
    duration: o.seconds,
    amount: o.amount,
    ...(o.overallRate ? { overallRate: o.overallRate } : {}),
    timeout: 10,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...o.headers },
        setupRequest: (req: Record<string, unknown>) => {
          const { path, body } = o.next();
          return { ...req, path, body };
        },
      },
    ],
  });
  const statuses: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) statuses[code] = s.count;
  return {
    rps: r['2xx'] / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    statuses,
  };
}

export function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}
