/**
 * `npm run bench`: OTP issue and verify against their limit (bare NestJS route,
 * same SQL) and ceiling (plain node:http + pg), on each HTTP adapter, with
 * variants, mail throughput, scale and peak RSS. Prints a table and writes
 * bench/results/latest.json. A benchmark, not a test: see README "Performance".
 */
import { join } from 'node:path';
import { appEnv, AppVariant, BENCH_AUDIT, bareNestEnv, RAISED_LIMITS } from './lib/bench-env';
import { BenchDatabase, countChallenges, insertFinishedChallenges, openBenchDatabase, truncateOtpTables } from './lib/bench-db';
import { Child, startChild } from './lib/child';
import { measureMail } from './lib/mail-bench';
import { median } from './lib/load';
import { fixedPart, PartContext, peerPart, soakPart } from './lib/more-parts';
import { AppReady, BenchSettings, measureIssueVerify, RouteFigures, verifyP50 } from './lib/phases';
import { BenchReport, printReport, writeReport } from './lib/report';

const num = (v: string | undefined, d: number) => (v && Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : d);
const seconds = num(process.env.BENCH_SECONDS, 10);
const settings: BenchSettings = {
  seconds,
  runs: num(process.env.BENCH_RUNS, 3),
  connections: num(process.env.BENCH_CONNECTIONS, 32),
  warmupSeconds: num(process.env.BENCH_WARMUP_SECONDS, Math.min(3, Math.max(1, Math.round(seconds / 4)))),
};
const SCALE_REQUESTS = num(process.env.BENCH_SCALE_REQUESTS, settings.runs > 1 ? 1000 : 600);
const SCALE_ROUNDS = num(process.env.BENCH_SCALE_ROUNDS, settings.runs > 1 ? 3 : 2);
const SCALE_WARMUP = 300;
const SCALE_CONNECTIONS = num(process.env.BENCH_SCALE_CONNECTIONS, 4);
const SCALE_SMALL = 10_000;
const SCALE_BIG = num(process.env.BENCH_SCALE_BIG_ROWS, 1_000_000);
const adaptersWanted = (process.env.BENCH_ADAPTERS ?? 'express,fastify').split(',').map((a) => a.trim()).filter(Boolean);
/** `BENCH_ONLY=mail` (or a list such as `http,mail`) runs only those parts; unset runs them all (soak: only with BENCH_SOAK_SECONDS). */
const PARTS = ['http', 'variants', 'mail', 'scale', 'peer', 'fixed', 'soak'] as const;
const only = (process.env.BENCH_ONLY ?? '').split(',').map((p) => p.trim()).filter(Boolean);
const unknownPart = only.find((p) => !(PARTS as readonly string[]).includes(p));
if (unknownPart) {
  console.error(`BENCH_ONLY: unknown part "${unknownPart}" (parts: ${PARTS.join(', ')})`);
  process.exit(2);
}
const wants = (part: (typeof PARTS)[number]) => only.length === 0 || only.includes(part);
/** The soak is long: off unless BENCH_SOAK_SECONDS (at least 240, so that minute 3 and a later one exist). */
const SOAK_SECONDS = process.env.BENCH_SOAK_SECONDS ? Number(process.env.BENCH_SOAK_SECONDS) : 0;
if (process.env.BENCH_SOAK_SECONDS && !(SOAK_SECONDS >= 240)) {
  console.error(`BENCH_SOAK_SECONDS: "${process.env.BENCH_SOAK_SECONDS}" is not a number of seconds of at least 240`);
  process.exit(2);
}

const children: Child<unknown>[] = [];
const extraDbs: BenchDatabase[] = [];
const t0 = Date.now();
/** Each progress line carries the elapsed time, so a slow part shows itself. */
const log = (line: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${line}`);

async function bootApp(db: BenchDatabase, v: AppVariant, nodeArgs: string[] = []): Promise<Child<AppReady>> {
  const app = await startChild<AppReady>('app-server', appEnv(db.url, v), 60_000, nodeArgs);
  children.push(app as Child<unknown>);
  for (const note of app.ready.features.notes) log(`  note: ${note}`);
  return app;
}

async function stopApp(app: Child<AppReady>): Promise<void> {
  await app.stop();
  children.splice(children.indexOf(app as Child<unknown>), 1);
}

/** What the build has (tables, throttler), when the HTTP part did not boot an app already. */
async function probeFeatures(db: BenchDatabase, adapter: string): Promise<AppReady['features']> {
  const app = await bootApp(db, { adapter, audit: false, throttlerStorage: 'memory' });
  const features = app.ready.features;
  await stopApp(app);
  return features;
}

async function main(): Promise<void> {
  const started = Date.now();
  const report: BenchReport = { settings, skipped: [], adapters: {}, variants: {}, raisedLimits: {}, mail: { rps: null, limitRps: null, ratio: null } } as unknown as BenchReport;
  log(`bench: ${settings.runs} run(s) of ${settings.seconds} s per figure, ${settings.connections} connections, warm-up ${settings.warmupSeconds} s${only.length ? `; only ${only.join(', ')}` : ''}`);
  const db = await openBenchDatabase();
  log(`database: ${db.name}${db.created ? ' (created; dropped at the end)' : ' (DATABASE_URL)'}`);
  try {
    const ceiling = await startChild<{ port: number }>('ceiling-server', { PATH: process.env.PATH, DATABASE_URL: db.url, DATABASE_POOL_SIZE: process.env.BENCH_POOL_SIZE ?? '10' });
    children.push(ceiling as Child<unknown>);

    // 1. Each adapter: issue and verify, OTP vs limit vs ceiling.
    let features: AppReady['features'] | undefined;
    for (const adapter of wants('http') ? adaptersWanted : []) {
      const app = await bootApp(db, { adapter, audit: BENCH_AUDIT, throttlerStorage: 'memory' });
      features = app.ready.features;
      if (app.ready.adapter !== adapter) {
        report.skipped.push(`${adapter}: not available in this build (the app ran on ${app.ready.adapter})`);
        log(`skipped: ${adapter} adapter not available in this build`);
        await stopApp(app);
        continue;
      }
      log(`${adapter}: measuring issue and verify (OTP, limit, ceiling, bare NestJS app)`);
      const bare = await startChild<{ port: number }>('bare-nest-server', bareNestEnv(db.url, adapter));
      children.push(bare as Child<unknown>);
      const m = await measureIssueVerify({ app, ceilingPort: ceiling.ready.port, ceilingPid: ceiling.proc.pid, bare: { port: bare.ready.port, pid: bare.proc.pid! }, pool: db.pool, s: settings, withLimits: true, label: adapter });
      report.adapters[adapter] = { issue: m.issue, verify: m.verify, peakRssMb: m.peakRssMb };
      await bare.stop();
      children.splice(children.indexOf(bare as Child<unknown>), 1);
      await stopApp(app);
    }
    const best = (route: 'issue' | 'verify') =>
      Object.entries(report.adapters).sort((a, b) => b[1][route].otp.rps - a[1][route].otp.rps)[0]?.[0];
    const bestAdapter = best('verify') ?? adaptersWanted[0] ?? 'express';
    if (!features) features = await probeFeatures(db, bestAdapter);
    const throttled = features?.throttlerStorage ?? null;
    report.raisedLimits = throttled ? Object.fromEntries(Object.entries(RAISED_LIMITS).map(([k, v]) => [k, `${v.value} (${v.why})`])) : {};
    log(throttled
      ? `limits raised for the load generator: ${Object.entries(RAISED_LIMITS).map(([k, v]) => `${k}=${v.value} (${v.why})`).join('; ')}`
      : 'limits raised: none needed (no request throttler in this build; the variables in bench/lib/bench-env.ts are set and ignored)');

    // 2. Variants on the best adapter: audit on/off, throttler storage memory/redis.
    const hasAudit = features?.tables.some((t) => /audit/.test(t)) ?? false;
    const variantList: [string, AppVariant][] = [];
    if (hasAudit) variantList.push(['audit on', { adapter: bestAdapter, audit: true, throttlerStorage: 'memory' }], ['audit off', { adapter: bestAdapter, audit: false, throttlerStorage: 'memory' }]);
    else report.skipped.push('audit on/off: no audit table in this build');
    if (throttled) variantList.push(['throttler memory', { adapter: bestAdapter, audit: BENCH_AUDIT, throttlerStorage: 'memory' }], ['throttler redis', { adapter: bestAdapter, audit: BENCH_AUDIT, throttlerStorage: 'redis' }]);
    else report.skipped.push('throttler memory/redis: no throttler in this build');
    // 'audit off' and 'throttler memory' are one configuration: measure each configuration once.
    const measured = new Map<string, BenchReport['variants'][string]>();
    for (const [name, v] of wants('variants') ? variantList : []) {
      const key = JSON.stringify(v);
      const done = measured.get(key);
      if (done) {
        log(`variant: ${name} (same configuration as measured above)`);
        report.variants[name] = done;
        continue;
      }
      log(`variant: ${name}`);
      const app = await bootApp(db, v);
      const m = await measureIssueVerify({ app, pool: db.pool, s: settings, withLimits: false, label: name });
      report.variants[name] = { issueRps: m.issue.otp.rps, verifyRps: m.verify.otp.rps, issueP99Ms: m.issue.otp.p99Ms, verifyP99Ms: m.verify.otp.p99Ms, throttlerStorage: app.ready.features.throttlerStorage };
      measured.set(key, report.variants[name]);
      await stopApp(app);
    }

    // 3. Mail: outbox -> SMTP sink vs plain pooled nodemailer -> same sink.
    if (wants('mail')) {
      report.mail = await measureMail({
        pool: db.pool, runs: settings.runs, seconds: settings.seconds, hasOutbox: features!.tables.some((t) => /outbox/.test(t)), log, skipped: report.skipped,
        // One instance without a dispatcher writes the backlog, then an instance with one drains it.
        bootApp: (extra) => bootApp(db, { adapter: bestAdapter, audit: BENCH_AUDIT, throttlerStorage: 'memory', mailPort: 'real', extra }),
        stopApp,
      });
    }

    // 4. Scale: verify p50 with 10k and with 1M challenge rows.
    if (wants('scale')) report.scale = await measureScale(db, bestAdapter);

    // 5-7. The peer (better-auth) on the faster adapter, latency at a fixed 300 req/s, the soak.
    const parts: PartContext = { db, settings, log, bootApp, stopApp };
    if (wants('peer')) {
      report.peer = await peerPart(parts, bestAdapter);
      report.peerAdapter = bestAdapter;
    }
    if (wants('fixed')) {
      const fixed = await fixedPart(parts, adaptersWanted);
      report.fixedRate = fixed.byAdapter;
      report.fixedRateCeiling = fixed.ceiling;
    }
    if (wants('soak') && SOAK_SECONDS) report.soak = await soakPart(parts, bestAdapter, SOAK_SECONDS, num(process.env.BENCH_SOAK_RATE, 300));
    else if (only.includes('soak')) report.skipped.push('soak: set BENCH_SOAK_SECONDS (at least 240) to run it');

    const pick = (route: 'issue' | 'verify') => {
      const adapter = best(route)!;
      const f: RouteFigures = report.adapters[adapter][route];
      return {
        rps: f.otp.rps, p50Ms: f.otp.p50Ms, p99Ms: f.otp.p99Ms,
        limitRps: f.limit!.rps, ratio: f.otp.rps / f.limit!.rps,
        ceilingRps: f.ceiling!.rps, ceilingRatio: f.otp.rps / f.ceiling!.rps, adapter,
        cpuUsPerRequest: { otp: f.otp.cpuUsPerRequest, limit: f.limit!.cpuUsPerRequest, ceiling: f.ceiling!.cpuUsPerRequest, bare: f.bare?.cpuUsPerRequest },
      };
    };
    if (Object.keys(report.adapters).length) {
      report.issue = pick('issue');
      report.verify = pick('verify');
      report.rssMb = Math.max(...Object.values(report.adapters).map((a) => a.peakRssMb));
    }
    report.elapsedSeconds = (Date.now() - started) / 1000;
    printReport(report);
    const file = writeReport(report, join(__dirname, '../..', 'bench', 'results'));
    log(`wrote ${file} (${report.elapsedSeconds.toFixed(0)} s)`);
  } finally {
    for (const c of [...children].reverse()) await c.stop().catch(() => undefined);
    for (const extra of extraDbs) await extra.close().catch(() => undefined);
    await db.close();
  }
}

/**
 * Verify p50 with 10k and with 1M challenge rows: two databases side by side, measured in
 * alternation so that the machine's drift hits both alike.
 */
async function measureScale(db: BenchDatabase, bestAdapter: string): Promise<BenchReport['scale']> {
  log(`scale: verify p50 at ${SCALE_SMALL} and ${SCALE_BIG} rows (${SCALE_ROUNDS} alternating rounds of ${SCALE_REQUESTS} requests, ${SCALE_CONNECTIONS} connections)`);
  await truncateOtpTables(db.pool);
  const bigDb = await openBenchDatabase({ fresh: true });
  extraDbs.push(bigDb);
  const scaleApps = [
    { db, rows: SCALE_SMALL, app: await bootApp(db, { adapter: bestAdapter, audit: BENCH_AUDIT, throttlerStorage: 'memory' }), p50: [] as number[] },
    { db: bigDb, rows: SCALE_BIG, app: await bootApp(bigDb, { adapter: bestAdapter, audit: BENCH_AUDIT, throttlerStorage: 'memory' }), p50: [] as number[] },
  ];
  const t0 = Date.now();
  for (const s of scaleApps) {
    await insertFinishedChallenges(s.db.pool, s.rows - SCALE_ROUNDS * SCALE_REQUESTS - SCALE_WARMUP);
    await s.db.pool.query('VACUUM ANALYZE otp_challenges');
    await verifyP50(s.app, SCALE_WARMUP, SCALE_CONNECTIONS);
  }
  log(`  filled in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  for (let r = 0; r < SCALE_ROUNDS; r++) for (const s of scaleApps) s.p50.push((await verifyP50(s.app, SCALE_REQUESTS, SCALE_CONNECTIONS)).p50Ms);
  const [small, big] = scaleApps;
  const scale: BenchReport['scale'] = {
    p50MsAt10k: median(small.p50), p50MsAt1M: median(big.p50), ratio: median(big.p50) / median(small.p50),
    rowsSmall: await countChallenges(db.pool), rowsBig: await countChallenges(bigDb.pool), connections: SCALE_CONNECTIONS,
    runs: { small: small.p50, big: big.p50 },
  };
  for (const s of scaleApps) await stopApp(s.app);
  return scale;
}

process.on('SIGINT', () => {
  for (const c of children) c.proc.kill('SIGKILL');
  process.exit(130);
});

main().catch((err: Error) => {
  console.error(`bench failed: ${err.stack ?? err.message}`);
  for (const c of children) console.error(c.output.slice(-20).join(''));
  process.exit(1);
});
