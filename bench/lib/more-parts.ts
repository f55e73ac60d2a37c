/**
 * The parts of `npm run bench` added for issue 12: the peer (better-auth), latency at a fixed
 * offered load, and the memory soak. run.ts owns the apps' life cycle and passes it in.
 */
import { AppVariant, BENCH_AUDIT } from './bench-env';
import { BenchDatabase, openBenchDatabase } from './bench-db';
import { Child, startChild } from './child';
import { FIXED_RATE, FixedRateFigure, measureFixedCeiling, measureFixedRate } from './fixed';
import { measurePeer, PeerFigure } from './peer';
import { AppReady, BenchSettings } from './phases';
import { runSoak, SoakFigure, startCodeSink } from './soak';

export interface PartContext {
  db: BenchDatabase;
  settings: BenchSettings;
  log: (line: string) => void;
  bootApp(db: BenchDatabase, v: AppVariant, nodeArgs?: string[]): Promise<Child<AppReady>>;
  stopApp(app: Child<AppReady>): Promise<void>;
}

const plain = (adapter: string): AppVariant => ({ adapter, audit: BENCH_AUDIT, throttlerStorage: 'memory' });

/** Ours on `adapter` against the peer on its own database, rounds interleaved. */
export async function peerPart(c: PartContext, adapter: string): Promise<{ issue: PeerFigure; signIn: PeerFigure }> {
  const peerDb = await openBenchDatabase({ fresh: true, bare: true });
  let peer: Child<{ type: 'ready'; port: number }> | undefined;
  const app = await c.bootApp(c.db, plain(adapter));
  try {
    peer = await startChild('peer-server', {
      PATH: process.env.PATH, NODE_ENV: 'production', DATABASE_URL: peerDb.url, DATABASE_POOL_SIZE: process.env.BENCH_POOL_SIZE ?? '10',
    });
    c.log(`peer: better-auth email-otp on ${peerDb.name} against ours on ${adapter}`);
    return await measurePeer({ app, peer, s: c.settings, log: c.log });
  } finally {
    await peer?.stop();
    await c.stopApp(app);
    await peerDb.close();
  }
}

/** Issue and verify at a fixed 300 req/s on each adapter, and the ceiling server under the same load (the generators' floor). */
export async function fixedPart(c: PartContext, adapters: string[]): Promise<{
  byAdapter: Record<string, { issue: FixedRateFigure; verify: FixedRateFigure }>;
  ceiling: Awaited<ReturnType<typeof measureFixedCeiling>>;
}> {
  const out: Record<string, { issue: FixedRateFigure; verify: FixedRateFigure }> = {};
  const ceilingServer = await startChild<{ port: number }>('ceiling-server', { PATH: process.env.PATH, DATABASE_URL: c.db.url, DATABASE_POOL_SIZE: process.env.BENCH_POOL_SIZE ?? '10' });
  let ceiling: Awaited<ReturnType<typeof measureFixedCeiling>>;
  try {
    c.log(`fixed rate: the ceiling (plain node:http + pg), ${FIXED_RATE} req/s offered`);
    ceiling = await measureFixedCeiling(ceilingServer.ready.port, c.settings, c.log);
  } finally {
    await ceilingServer.stop();
  }
  for (const adapter of adapters) {
    const app = await c.bootApp(c.db, plain(adapter));
    try {
      if (app.ready.adapter !== adapter) continue;
      c.log(`fixed rate: ${adapter}, ${FIXED_RATE} req/s offered`);
      out[adapter] = await measureFixedRate(app, c.settings, c.log, FIXED_RATE, c.db.pool);
    } finally {
      await c.stopApp(app);
    }
  }
  return { byAdapter: out, ceiling };
}

/**
 * Fixed 300 req/s of issue plus verify for `seconds`, mail through the app's real dispatcher to a
 * local SMTP sink (verify uses the codes read there), audit on: every per-request path that could hold memory.
 */
export async function soakPart(c: PartContext, adapter: string, seconds: number, rate = FIXED_RATE): Promise<SoakFigure> {
  const { sink, codes, unread } = await startCodeSink();
  const variant: AppVariant = { adapter, audit: true, throttlerStorage: 'memory', mailPort: 'real',
    extra: { SMTP_URL: `smtp://127.0.0.1:${sink.port}`, SMTP_CA_FILE: sink.caFile } };
  const app = await c.bootApp(c.db, variant, ['--expose-gc']);
  try {
    c.log(`soak: ${seconds} s at ${rate} req/s (issue and verify in turn) on ${adapter}, mail to a local SMTP sink`);
    const r = await runSoak({ app, codes, mailed: () => ({ received: sink.received.length, unread: unread() }), seconds, rate, connections: c.settings.connections, log: c.log });
    c.log(`  soak answers: ${JSON.stringify(r.statuses)}`);
    return { seconds: r.seconds, rssMbByMinute: r.rssMbByMinute, heapMbByMinute: r.heapMbByMinute, rssGrowth: r.rssGrowth };
  } finally {
    await c.stopApp(app);
    await sink.close();
  }
}
