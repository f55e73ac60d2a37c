import { readFileSync } from 'node:fs';

/**
 * Where a route's CPU goes, by the levers issue 12 names: each sample of a .cpuprofile goes to
 * the nearest frame (from the leaf up) whose code belongs to a lever, so natives (JSON, crypto,
 * streams) count for the code that called them, and Express's nested middleware chain does not
 * put the whole request under its first middleware. Only samples inside [fromUs, toUs] (the load
 * window, monotonic µs like the profile's clock) count; idle and program samples are left out.
 */
interface ProfileNode { id: number; callFrame: { functionName: string; url: string }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number }

const has = (...parts: string[]) => (url: string) => parts.some((p) => url.includes(p));

/** In order of precedence for one frame; the first lever a frame belongs to wins. */
export const LEVERS: [string, (url: string, fn: string) => boolean][] = [
  ['helmet (security headers)', has('/node_modules/helmet/', '/@fastify/helmet/')],
  ['logging (pino-http, redaction)', has('/pino-http/', '/node_modules/pino/', '/nestjs-pino/', '/pino-std-serializers/', '/sonic-boom/', '/fast-redact/', '/otp/logging/', '/app/app.logging')],
  ['body parsing', has('/body-parser/', '/raw-body/', '/fastify/lib/contentTypeParser', '/secure-json-parse/', '/iconv-lite/', '/content-type/')],
  ['validation (class-validator, pipes, body guards)', has('/class-validator/', '/class-transformer/', '/@nestjs/common/pipes/', '/node_modules/validator/', '/otp-email.validator', '/body-depth.pipe', '/body-shape', '/json-body.guard', '/reject-query.guard', '/app-validation.pipe', '/libphonenumber')],
  ['throttlers (guard, keys, send limiter)', has('/@nestjs/throttler/', '/otp/rate-limit/', '/@nest-lab/throttler-storage-redis/')],
  ['events: audit, metrics, alerts', has('/otp/events/', '/otp/audit/', '/otp/monitoring/', '/prom-client/')],
  ['Nest pipeline (router, guards/interceptors, rxjs)', has('/@nestjs/core/', '/node_modules/rxjs/', '/@nestjs/common/', '/no-store.interceptor', '/iterare/')],
  ['database (pg, TypeORM, OTP SQL)', has('/node_modules/pg', '/node_modules/typeorm/', '/otp/persistence/', '/postgres-')],
  ['OTP logic (service, tokens, crypto, mail port)', has('/otp/')],
  ['example app (accounts, config, bench routes)', has('/dist/src/app/', '/dist/bench/')],
  // Not node:net/streams: a socket write (writev, mostly kernel time) counts for whoever wrote, the response or pg.
  ['HTTP server and framework', has('/express/', '/node_modules/router/', '/fastify/', '/find-my-way/', '/@nestjs/platform-', '/avvio/', '/light-my-request/', 'node:_http', '/on-finished/', '/finalhandler/', '/send/', '/proxy-addr/', '/qs/')],
  ['garbage collector', (_u, fn) => fn === '(garbage collector)'],
];

export interface LeverShare { lever: string; samples: number; share: number }

export function leversOf(file: string, fromUs = -Infinity, toUs = Infinity): { samples: number; levers: LeverShare[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const leverOfNode = new Map<number, string>();
  const resolve = (id: number): string => {
    const known = leverOfNode.get(id);
    if (known) return known;
    const { url, functionName } = byId.get(id)!.callFrame;
    const own = LEVERS.find(([, match]) => match(url, functionName))?.[0];
    const up = parent.get(id);
    const lever = own ?? (up === undefined ? 'other (node internals, unattributed)' : resolve(up));
    leverOfNode.set(id, lever);
    return lever;
  };
  const counts = new Map<string, number>();
  let t = p.startTime;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i];
    if (t < fromUs || t > toUs) continue;
    const fn = byId.get(p.samples[i])!.callFrame.functionName;
    if (fn === '(idle)' || fn === '(program)') continue;
    const lever = resolve(p.samples[i]);
    counts.set(lever, (counts.get(lever) ?? 0) + 1);
    total++;
  }
  const levers = [...counts.entries()].map(([lever, samples]) => ({ lever, samples, share: samples / Math.max(1, total) }))
    .sort((a, b) => b.samples - a.samples);
  return { samples: total, levers };
}
