import { randomBytes } from 'node:crypto';
import { OtpService, OtpTokenService } from '../../src/otp';
import type { TestDatabase } from '../support/test-database';
import { HTTP_ADAPTERS } from '../support/test-app';
import { OtpAuditWriter } from '../../src/otp/audit/otp-audit.writer';
import { AppRoute, routesOf } from './support/app-routes';
import { malformedRequestsFor } from './support/fuzz-cases';
import { ipLimitsRaised, PRODUCTION_ENV } from './support/hostile-env';
import { hasErrorShape, mapLimit, RawClient, RawRequest, RawResponse } from './support/raw-http';
import { SeededRandom } from './support/seeded-random';
import { tableState } from './support/table-state';
import { BootedTestApp, testApp } from '../support/test-app.builder';

/**
 * Hostile input: at least 2,000 malformed requests spread over every route the
 * app mounts (read from its controllers, so later routes are fuzzed too), from a
 * seeded generator. Each gets a clear 4xx in the `{ error, message }` shape,
 * nothing answers 5xx, and no table row changes.
 */
/** Admin routes are fuzzed past their guard, and OTP-guarded host routes past the token check, so their bodies are read. */
// Production refuses an operator token of less than 32 random bytes: made at test time.
const ADMIN_TOKEN = randomBytes(32).toString('base64url');

/** The credentials a request of the fuzzer carries: the operator token on admin POST routes, a token-shaped value elsewhere. */
/** POST routes behind SessionGuard (password change, transfers): fuzzed with a live session, so their bodies are read. */
const isSessionRoute = (route: AppRoute) => route.method === 'POST' && route.guards.includes('SessionGuard');

function withCredentials(route: AppRoute, req: RawRequest, sessionToken: string): RawRequest {
  const credentials: Record<string, string> = route.path.startsWith('/admin/') && route.method === 'POST'
    ? { authorization: `Bearer ${ADMIN_TOKEN}` }
    : isSessionRoute(route) && req.method === route.method // a wrong method keeps no session: GET /payments/transfers would list
      ? { authorization: `Bearer ${sessionToken}`, 'x-otp-token': 'otp_fuzz-token-that-redeems-nothing' }
      : { 'x-otp-token': 'otp_fuzz-token-that-redeems-nothing' };
  return { ...req, headers: { ...credentials, ...req.headers } };
}

describe.each(HTTP_ADAPTERS)('hostile input: fuzzing every route on %s', (adapter) => {
  let db: TestDatabase;
  let t: BootedTestApp;
  let client: RawClient;
  let routes: AppRoute[];
  let liveId: string;
  let sessionToken: string;

  beforeAll(async () => {
    // MAIL_DISPATCHER=false: no background delivery retries move outbox rows while rows are compared.
    // Password-change limits raised too, so every fuzzed body of that route reaches its validation.
    t = await testApp()
      .withDatabase()
      .adapter(adapter)
      .env({ ...PRODUCTION_ENV, ...ipLimitsRaised(), MAIL_DISPATCHER: 'false', OTP_ADMIN_TOKEN: ADMIN_TOKEN, RATE_LIMIT_PASSWORD_ACCOUNT: '1000000/60', RATE_LIMIT_PASSWORD_IP: '1000000/60' })
      .boot();
    db = t.db;
    await t.app.listen(0, '127.0.0.1');
    client = new RawClient(t.app.getHttpServer().address().port);
    // /health ignores its input and answers 200 or 503 from its dependencies' state (this
    // app's relay is deliberately unreachable), so no answer of it says anything about bad input.
    routes = routesOf(t.app).filter((r) => r.path !== '/health');
    // A live challenge whose id the fuzzer aims at: its attempts and codes must not move.
    const issued = await client.postJson('/auth/otp/challenges', { email: 'fuzz.victim@example.com' });
    expect(issued.status).toBe(202);
    liveId = (issued.json as { challengeId: string }).challengeId;
    // A real session for the session routes, opened through the app's own sign-in route. No mail is
    // delivered here (MAIL_DISPATCHER=false), so the proof token of a challenge is minted by the module's
    // token service, as its verify route would after a right code.
    const email = 'fuzz.session@example.com';
    const login = await client.postJson('/auth/otp/challenges', { email });
    expect(login.status).toBe(202);
    const { token } = await t.app.get(OtpTokenService).issue({
      challengeId: (login.json as { challengeId: string }).challengeId, purpose: 'login', contextHash: null,
      recipientIndex: t.app.get(OtpService).recipientIndex(email), verifiedAt: new Date(),
    });
    const signedIn = await client.postJson('/accounts/sessions', { email }, { 'x-otp-token': token });
    expect(signedIn.status).toBe(201);
    sessionToken = (signedIn.json as { sessionToken: string }).sessionToken;
  });
  afterAll(async () => {
    client?.close();
    await t?.close();
  });

  it('finds the OTP routes among the app routes', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    expect(names).toEqual(expect.arrayContaining([
      'POST /auth/otp/challenges', 'POST /auth/otp/challenges/:id/verify', 'POST /auth/otp/challenges/:id/resend',
    ]));
  });

  it('fuzzes every route that takes a body or a path parameter, admin query and host routes included', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    expect(names).toEqual(expect.arrayContaining([
      'POST /admin/otp/audit/query', 'POST /accounts/sessions', 'POST /accounts/sessions/password', 'POST /accounts/password', 'POST /payments/transfers',
    ]));
  });

  it('R3/R14: 2,000+ malformed requests over every route (lone surrogates in every string field, own constructor/prototype/__proto__ keys at every depth) get a clear 4xx, never a 5xx, and change no row', async () => {
    const rnd = new SeededRandom(0x0f7_2026);
    const perRoute = Math.ceil(2100 / routes.length);
    const cases: { route: AppRoute; req: RawRequest }[] = routes.flatMap((route) =>
      malformedRequestsFor(route, perRoute, rnd, liveId).map((req) => ({ route, req: withCredentials(route, req, sessionToken) })));
    expect(cases.length).toBeGreaterThanOrEqual(2000);
    for (const route of routes) expect(cases.filter((c) => c.route === route).length).toBeGreaterThanOrEqual(Math.min(perRoute, 400));

    const startedAt = new Date();
    const before = await tableState(db.dataSource);
    const answers = await mapLimit(cases, 16, async ({ req }) => {
      try {
        return await client.send(req);
      } catch (err) {
        return err as Error;
      }
    });
    const after = await tableState(db.dataSource);

    const problems: string[] = [];
    answers.forEach((a, i) => {
      const { req } = cases[i];
      const what = `${req.method} ${req.path.slice(0, 100)} ${String(req.body ?? '').slice(0, 120).replace(/\r/g, '\\r').replace(/\n/g, '\\n')}`;
      if (a instanceof Error) return problems.push(`${what} -> ${a.message}`);
      const r = a as RawResponse;
      if (r.status < 400 || r.status >= 500) return problems.push(`${what} -> ${r.status} ${r.text.slice(0, 120)}`);
      if (!hasErrorShape(r.json)) return problems.push(`${what} -> ${r.status} without { error, message }: ${r.text.slice(0, 120)}`);
      if (/\bat [\w.<>]+ \(|node_modules|\.ts:\d+/.test(r.text)) return problems.push(`${what} -> ${r.status} with a stack trace: ${r.text.slice(0, 120)}`);
      return undefined;
    });
    expect(problems.slice(0, 25)).toEqual([]);
    // Session routes were fuzzed past SessionGuard: their bodies were read, not refused for want of a session.
    const sessionAnswers = answers.filter((a, i) => isSessionRoute(cases[i].route) && cases[i].req.method === cases[i].route.method && !(a instanceof Error)) as RawResponse[];
    expect(sessionAnswers.length).toBeGreaterThanOrEqual(3 * Math.min(perRoute, 400));
    expect(sessionAnswers.filter((r) => (r.json as { error?: string } | undefined)?.error === 'session_required').map((r) => r.text.slice(0, 80))).toEqual([]);
    // Refused requests are audited (R17: failures too), so the audit trail grows, with failures only;
    // every other table is exactly as it was.
    const withoutAudit = (state: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(state).filter(([table]) => !table.startsWith('otp_audit_')));
    expect(withoutAudit(after)).toEqual(withoutAudit(before));
    await t.app.get(OtpAuditWriter).flush();
    const outcomes: { outcome: string }[] = await db.dataSource.query(`SELECT DISTINCT outcome FROM otp_audit_log WHERE at >= $1`, [startedAt]);
    expect(outcomes.map((o) => o.outcome).filter((o) => o !== 'failure')).toEqual([]);
  }, 180_000); // ~3,000 requests take 30-40 s alone, more on a machine busy with other suites
});
