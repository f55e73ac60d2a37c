import { Child, cpuMs } from './child';
import { codeSignIns, Flow, runFlows } from './flows';
import { LoadResult, median, runLoad } from './load';
import { PEER_CLIENT_HEADERS, PEER_ISSUE_PATH, PEER_SIGN_IN_PATH } from './peer-http';
import { AppReady, BenchSettings } from './phases';

/** One route against the peer's: medians of the interleaved rounds (see BenchReport['peer']). */
export interface PeerFigure {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerRequest: number;
  peerRps: number;
  peerP50Ms: number;
  peerP99Ms: number;
  peerCpuUsPerRequest: number;
  /** Ours / the peer's requests/s. */
  rpsRatio: number;
  /** Ours / the peer's app CPU per request (target at most 0.34). */
  cpuRatio: number;
}

type Peer = Child<{ type: 'ready'; port: number }>;
let seq = 0;
const tag = (what: string) => `${what}-${process.pid}-${Date.now()}-${++seq}`;

/** Runs `work` and sets its CPU per request (µs) from the serving process's /proc counters. */
async function withCpu(pid: number, work: () => Promise<LoadResult>): Promise<LoadResult> {
  const cpu0 = cpuMs(pid);
  const r = await work();
  r.cpuUsPerRequest = ((cpuMs(pid) - cpu0) * 1000) / Math.max(1, r.ok + r.non2xx);
  if (r.non2xx || r.errors) console.warn(`  ! peer comparison: ${r.non2xx} refused, ${r.errors} errors (${JSON.stringify(r.statuses)})`);
  return r;
}

function figure(ours: LoadResult[], theirs: LoadResult[]): PeerFigure {
  const m = (rs: LoadResult[], k: 'rps' | 'p50Ms' | 'p99Ms' | 'cpuUsPerRequest') => median(rs.map((r) => r[k] ?? NaN));
  const f = {
    rps: m(ours, 'rps'), p50Ms: m(ours, 'p50Ms'), p99Ms: m(ours, 'p99Ms'), cpuUsPerRequest: m(ours, 'cpuUsPerRequest'),
    peerRps: m(theirs, 'rps'), peerP50Ms: m(theirs, 'p50Ms'), peerP99Ms: m(theirs, 'p99Ms'), peerCpuUsPerRequest: m(theirs, 'cpuUsPerRequest'),
  };
  return { ...f, rpsRatio: f.rps / f.peerRps, cpuRatio: f.cpuUsPerRequest / f.peerCpuUsPerRequest };
}

/** Ours: verify, then the session route with the token (one completed pair). */
async function ourSignIns(app: Child<AppReady>, n: number): Promise<Flow[]> {
  const { pairs } = await app.request<{ pairs: [string, string, string][] }>({ cmd: 'prepare', n, tag: tag('s') }, 'prepared');
  return codeSignIns(pairs);
}

/** The peer's: its sign-in with an OTP (one request). */
async function peerSignIns(peer: Peer, n: number): Promise<Flow[]> {
  const { pairs } = await peer.request<{ pairs: [string, string][] }>({ cmd: 'prepare', n, tag: tag('ps') }, 'prepared');
  return pairs.map(([email, otp]) => async (post) => (await post(PEER_SIGN_IN_PATH, { email, otp })).status === 200);
}

export interface PeerOptions {
  app: Child<AppReady>;
  peer: Peer;
  s: BenchSettings;
  log: (line: string) => void;
}

/** Issue against its send-verification-otp, code sign-in against its sign-in with OTP; rounds interleaved. */
export async function measurePeer(o: PeerOptions): Promise<{ issue: PeerFigure; signIn: PeerFigure }> {
  const { app, peer, s } = o;
  const issueOurs = (seconds: number) => withCpu(app.proc.pid!, () => {
    const t = tag('i');
    let i = 0;
    return runLoad({ url: `http://127.0.0.1:${app.ready.port}`, connections: s.connections, seconds,
      next: () => ({ path: '/auth/otp/challenges', body: JSON.stringify({ email: `cmp-${t}-${i++}@bench.example.com` }) }) });
  });
  const issuePeer = (seconds: number) => withCpu(peer.proc.pid!, () => {
    const t = tag('pi');
    let i = 0;
    return runLoad({ url: `http://127.0.0.1:${peer.ready.port}`, connections: s.connections, seconds, headers: PEER_CLIENT_HEADERS,
      next: () => ({ path: PEER_ISSUE_PATH, body: JSON.stringify({ email: `cmp-${t}-${i++}@bench.example.com`, type: 'sign-in' }) }) });
  });
  await issueOurs(s.warmupSeconds);
  await issuePeer(s.warmupSeconds);
  const issue = { ours: [] as LoadResult[], theirs: [] as LoadResult[] };
  for (let r = 0; r < s.runs; r++) {
    issue.ours.push(await issueOurs(s.seconds));
    issue.theirs.push(await issuePeer(s.seconds));
  }
  o.log(`  issue: ours ${issue.ours.map((r) => r.rps.toFixed(0)).join('/')} req/s, peer ${issue.theirs.map((r) => r.rps.toFixed(0)).join('/')} req/s`);

  // Sign-in: each flow a fresh code; about `seconds` worth at the best rate seen, at least 300/s.
  const sized = (rps: number, secs: number) => Math.ceil(Math.max(rps, 300) * secs * 1.5);
  const signIn = { ours: [] as LoadResult[], theirs: [] as LoadResult[] };
  // Codes are prepared before the CPU counters start: only the sign-in requests are counted.
  const flowsOf = async (who: 'ours' | 'theirs', secs: number, estimate: number) => {
    if (who === 'ours') {
      const flows = await ourSignIns(app, sized(estimate, secs));
      return withCpu(app.proc.pid!, () => runFlows({ port: app.ready.port, connections: s.connections, seconds: secs, flows }));
    }
    const flows = await peerSignIns(peer, sized(estimate, secs));
    return withCpu(peer.proc.pid!, () => runFlows({ port: peer.ready.port, connections: s.connections, seconds: secs, headers: PEER_CLIENT_HEADERS, flows }));
  };
  let ours = (await flowsOf('ours', s.warmupSeconds, 300)).rps;
  let theirs = (await flowsOf('theirs', s.warmupSeconds, 300)).rps;
  for (let r = 0; r < s.runs; r++) {
    const a = await flowsOf('ours', s.seconds, ours);
    const b = await flowsOf('theirs', s.seconds, theirs);
    signIn.ours.push(a);
    signIn.theirs.push(b);
    ours = Math.max(ours, a.rps);
    theirs = Math.max(theirs, b.rps);
  }
  o.log(`  sign-in: ours ${signIn.ours.map((r) => r.rps.toFixed(0)).join('/')} pairs/s, peer ${signIn.theirs.map((r) => r.rps.toFixed(0)).join('/')} req/s`);
  return { issue: figure(issue.ours, issue.theirs), signIn: figure(signIn.ours, signIn.theirs) };
}
