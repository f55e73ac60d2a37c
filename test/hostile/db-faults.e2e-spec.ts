import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { bootTestApp, pollFor, TestApp } from '../support/test-app';
import { ipLimitsRaised } from './support/hostile-env';
import { hasErrorShape, RawClient, RawResponse } from './support/raw-http';
import { TcpProxy } from './support/tcp-proxy';

/**
 * Faults: the app reaches its own test database through a TCP proxy the test
 * controls (the shared PostgreSQL server is never restarted). The connection is
 * cut under load and restored; the backends are also killed with
 * pg_terminate_backend. The API recovers by itself and every challenge that was
 * answered 202 is in the database.
 */
describe('faults: PostgreSQL connection loss under load', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let t: TestApp;
  let client: RawClient;

  beforeAll(async () => {
    db = await createTestDatabase();
    const url = new URL(db.url);
    proxy = await new TcpProxy(Number(url.port || 5432), url.hostname).start();
    url.port = String(proxy.port);
    t = await bootTestApp({ DATABASE_URL: url.toString(), DATABASE_POOL_SIZE: '6', ...ipLimitsRaised() });
    await t.app.listen(0, '127.0.0.1');
    client = new RawClient(t.app.getHttpServer().address().port);
  });
  afterAll(async () => {
    client?.close();
    await t?.close();
    await proxy?.close();
    await db?.drop();
  });

  /** Issues challenges with 8 workers until `stop()`; keeps every answer. */
  function load() {
    const answers: (RawResponse | Error)[] = [];
    let running = true;
    let n = 0;
    const workers = Array.from({ length: 8 }, async () => {
      while (running) {
        try {
          answers.push(await client.postJson('/auth/otp/challenges', { email: `fault.${Date.now()}.${n++}@example.com` }));
        } catch (err) {
          answers.push(err as Error);
        }
      }
    });
    const ok = () => answers.filter((a) => !(a instanceof Error) && a.status === 202).length;
    const failed = () => answers.filter((a) => a instanceof Error || a.status >= 500).length;
    return { answers, ok, failed, stop: async () => { running = false; await Promise.all(workers); } };
  }

  async function expectAll202InDatabase(answers: (RawResponse | Error)[]): Promise<void> {
    const ids = answers.flatMap((a) => (!(a instanceof Error) && a.status === 202 ? [(a.json as { challengeId: string }).challengeId] : []));
    const [row] = await db.dataSource.query(`SELECT count(*)::int AS n FROM otp_challenges WHERE id = ANY($1::uuid[])`, [ids]);
    expect(row.n).toBe(ids.length);
  }

  function expectCleanFailures(answers: (RawResponse | Error)[]): void {
    for (const a of answers) {
      expect(a).not.toBeInstanceOf(Error); // no hang, no dropped connection: every request got an answer
      const r = a as RawResponse;
      if (r.status !== 202) {
        expect(r.status).toBeGreaterThanOrEqual(500);
        expect(hasErrorShape(r.json)).toBe(true);
        expect(r.text).not.toMatch(/ECONNRESET|ECONNREFUSED|terminat|postgres|select|insert/i);
      }
    }
  }

  it('recovers by itself after the database connection is cut and restored, losing no 202', async () => {
    const l = load();
    await pollFor(() => (l.ok() >= 50 ? true : undefined), 15_000);
    proxy.cut();
    const okAtCut = l.ok();
    await pollFor(() => (l.failed() >= 20 ? true : undefined), 15_000);
    proxy.restore();
    await pollFor(() => (l.ok() >= okAtCut + 100 ? true : undefined), 20_000);
    await l.stop();
    expect(l.failed()).toBeGreaterThanOrEqual(20);
    expectCleanFailures(l.answers);
    await expectAll202InDatabase(l.answers);
  });

  it('recovers by itself after its backends are terminated with pg_terminate_backend, losing no 202', async () => {
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    try {
      const l = load();
      await pollFor(() => (l.ok() >= 50 ? true : undefined), 15_000);
      for (let round = 0; round < 3; round++) {
        await admin.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
        );
        const okNow = l.ok();
        await pollFor(() => (l.ok() >= okNow + 30 ? true : undefined), 20_000);
      }
      await l.stop();
      expectCleanFailures(l.answers);
      await expectAll202InDatabase(l.answers);
    } finally {
      await admin.end();
    }
  });
});
