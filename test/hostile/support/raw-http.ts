import { Agent, request } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
  ms: number;
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** A plain HTTP client for 127.0.0.1 that sends exactly the bytes it is given (no JSON helpers in the way). */
export class RawClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });

  constructor(private readonly port: number) {}

  send(r: RawRequest, timeoutMs = 10_000, retried = false): Promise<RawResponse> {
    const started = process.hrtime.bigint();
    return new Promise((resolve, reject) => {
      const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, 'utf8');
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          method: r.method,
          path: r.path,
          agent: this.agent,
          headers: { ...(body ? { 'content-length': String(body.length) } : {}), ...r.headers },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, ms: Number(process.hrtime.bigint() - started) / 1e6 });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${r.method} ${r.path.slice(0, 80)}`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed as this request went out (its keep-alive timeout, on a
        // loaded machine): the server never read the request. Sent again once on a new socket, as Node's
        // http documentation advises for `reusedSocket`.
        if (!retried && req.reusedSocket && err.code === 'ECONNRESET') resolve(this.send(r, timeoutMs, true));
        else reject(err);
      });
      req.end(body);
    });
  }

  postJson(path: string, body: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
    return this.send({ method: 'POST', path, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `task` over `items` with at most `concurrency` in flight, keeping order of results. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, task: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await task(items[i], i);
      }
    }),
  );
  return out;
}

export function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** The error shape every refusal must have: `{ error, message }` with non-empty strings. */
export function hasErrorShape(json: unknown): boolean {
  const b = json as { error?: unknown; message?: unknown } | undefined;
  return typeof b === 'object' && b !== null && typeof b.error === 'string' && b.error.length > 0
    && typeof b.message === 'string' && b.message.length > 0;
}
