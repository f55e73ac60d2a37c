import { Client } from 'pg';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { pollFor, TestApp } from '../support/test-app';
import { PrivatePostgres } from '../support/private-postgres';
import { ipLimitsRaised } from './support/hostile-env';
import { hasErrorShape, RawClient, RawResponse } from './support/raw-http';
import { TcpProxy } from './support/tcp-proxy';
import { testApp } from '../support/test-app.builder';
import { OtpMailDispatcher } from '../../src/otp/mail/outbox/otp-mail.dispatcher';

/**
 * Database faults under load (8 workers issuing challenges), each ending with: the
 * API recovered by itself (no app restart), every failure was a clean 5xx error
 * body, and every challenge answered 202 is in the database with its code mail in
 * the outbox, which drains.
 *
 * - Connection loss, on the machine's shared server (never restarted): the app
 *   reaches its test database through a TCP proxy the test cuts and restores, and
 *   its backends are killed with pg_terminate_backend.
 * - Real restarts, on a private cluster this file owns (`PrivatePostgres`: its own
 *   initdb in a temp dir, port and socket, removed afterwards): `pg_ctl restart -m
 *   fast`, and `-m immediate`, a crash of every server process followed by WAL
 *   recovery. `REPORT_TIMINGS=1` prints the measured outage figures.
 */

type Answer = RawResponse | Error;

/** Issues challenges with 8 workers until `stop()`; keeps every answer and when it came (`at`, ms epoch). */
function load(client: RawClient) {
  const answers: Answer[] = [];
  const at: number[] = [];
  let running = true;
  let n = 0;
  const keep = (a: Answer) => {
    answers.push(a);
    at.push(Date.now());
  };
  const workers = Array.from({ length: 8 }, async () => {
    while (running) {
      try {
        keep(await client.postJson('/auth/otp/challenges', { email: `fault.${Date.now()}.${n++}@example.com` }));
      } catch (err) {
        keep(err as Error);
      }
    }
  });
  const ok = () => answers.filter(isAccepted).length;
  const failed = () => answers.filter((a) => !isAccepted(a)).length;
  return { answers, at, ok, failed, stop: async () => { running = false; await Promise.all(workers); } };
}

function isAccepted(a: Answer): a is RawResponse {
  return !(a instanceof Error) && a.status === 202;
}

function acceptedIds(answers: Answer[]): string[] {
  return answers.filter(isAccepted).map((a) => (a.json as { challengeId: string }).challengeId);
}

async function expectAll202InDatabase(db: TestDatabase, answers: Answer[]): Promise<void> {
  const ids = acceptedIds(answers);
  const [row] = await db.dataSource.query(`SELECT count(*)::int AS n FROM otp_challenges WHERE id = ANY($1::uuid[])`, [ids]);
  expect(row.n).toBe(ids.length);
}

/**
 * Each 202 challenge has its code mail in the outbox, and the dispatcher, recovered by
 * itself, delivers them: all end delivered, except those it had claimed when the database
 * went away and could not record, which its lease holds for a re-send (at-least-once).
 */
/**
 * Every challenge answered 202 has its code mail, and none went out twice: the
 * dispatcher keeps retrying the record of a delivery while the database is away, so no
 * mail that was sent is left to its lease (which would send it a second time minutes
 * later). Rows still leased at the end are claims whose answer was lost with the
 * connection: never sent, they go out once when the lease ends.
 */
async function expectOutboxMailFor202(db: TestDatabase, t: TestApp, answers: Answer[]): Promise<{ delivered: number; leased: number }> {
  const ids = acceptedIds(answers);
  const wanted = new Set(ids);
  const mailedNow = () => t.mailbox.list().filter((m) => m.challengeId && wanted.has(m.challengeId)).map((m) => m.challengeId as string);
  let last = { challenges: -1, delivered: 0, leased: 0, abandoned: 0, leased_ids: [] as string[] };
  let mailedBefore: string[] = [];
  await pollFor(async () => {
    // Read before the rows: a mail sent after this read (a claim still sending) cannot count against them.
    const mailed = (mailedBefore = mailedNow());
    [last] = await db.dataSource.query(
      `SELECT count(DISTINCT challenge_id)::int AS challenges,
         count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
         count(*) FILTER (WHERE status = 'pending' AND claimed_until > now())::int AS leased,
         count(*) FILTER (WHERE status = 'abandoned')::int AS abandoned,
         coalesce(array_agg(challenge_id::text) FILTER (WHERE status = 'pending' AND claimed_until > now()), '{}') AS leased_ids
       FROM otp_mail_outbox WHERE kind = 'code' AND challenge_id = ANY($1::uuid[])`,
      [ids],
    );
    // Done when every row is delivered or leased, and no leased row is a mail already sent
    // (such a row is one whose record the dispatcher is still retrying).
    const settled = last.challenges === ids.length && last.delivered + last.leased === ids.length;
    return settled && !last.leased_ids.some((id) => mailed.includes(id)) ? true : undefined;
  }, 40_000).catch(() => undefined); // the expectations below say what is missing
  expect(last.challenges).toBe(ids.length);
  expect({ notDelivered: ids.length - last.delivered - last.leased, abandoned: last.abandoned }).toEqual({ notDelivered: 0, abandoned: 0 });
  const mailed = mailedNow();
  expect(mailed.length - new Set(mailed).size).toBe(0); // no mail went out twice
  const unrecorded = last.leased_ids.filter((id) => mailedBefore.includes(id)); // the same snapshot as the rows
  if (unrecorded.length > 0) {
    // What the rows say, to tell a record still being retried from one given up.
    const rows = await db.dataSource.query(
      `SELECT status, claimed_until - now() AS lease_left, attempts, last_error FROM otp_mail_outbox WHERE challenge_id = ANY($1::uuid[])`, [unrecorded]);
    expect({ unrecorded, rows }).toEqual({ unrecorded: [], rows: [] }); // no sent mail left unrecorded
  }
  return { delivered: last.delivered, leased: last.leased };
}

function expectCleanFailures(answers: Answer[]): void {
  for (const a of answers) {
    expect(a).not.toBeInstanceOf(Error); // no hang, no dropped connection: every request got an answer
    const r = a as RawResponse;
    if (r.status !== 202) {
      expect(r.status).toBeGreaterThanOrEqual(500);
      expect(hasErrorShape(r.json)).toBe(true);
      expect(r.text).not.toMatch(/ECONNRESET|ECONNREFUSED|terminat|postgres|select|insert|shutdown|recovery/i);
    }
  }
}

async function startApp(databaseUrl: string): Promise<{ t: TestApp; client: RawClient }> {
  const t = await testApp().env({ DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: '6', ...ipLimitsRaised() }).boot();
  await t.app.listen(0, '127.0.0.1');
  return { t, client: new RawClient(t.app.getHttpServer().address().port) };
}

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
    ({ t, client } = await startApp(url.toString()));
  });
  afterAll(async () => {
    client?.close();
    await t?.close();
    await proxy?.close();
    await db?.drop();
  });

  it('recovers by itself after the database connection is cut and restored, losing no 202', async () => {
    const l = load(client);
    await pollFor(() => (l.ok() >= 50 ? true : undefined), 15_000);
    proxy.cut();
    const okAtCut = l.ok();
    await pollFor(() => (l.failed() >= 20 ? true : undefined), 15_000);
    proxy.restore();
    await pollFor(() => (l.ok() >= okAtCut + 100 ? true : undefined), 20_000);
    await l.stop();
    expect(l.failed()).toBeGreaterThanOrEqual(20);
    expectCleanFailures(l.answers);
    await expectAll202InDatabase(db, l.answers);
    await expectOutboxMailFor202(db, t, l.answers);
  });

  it('recovers by itself after its backends are terminated with pg_terminate_backend, losing no 202', async () => {
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    try {
      const l = load(client);
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
      await expectAll202InDatabase(db, l.answers);
      await expectOutboxMailFor202(db, t, l.answers);
    } finally {
      await admin.end();
    }
  });
});

describe('faults: a private PostgreSQL server restarted under load', () => {
  let pg: PrivatePostgres | undefined;
  let db: TestDatabase;
  let t: TestApp;
  let client: RawClient;
  let setupMs = 0;

  beforeAll(async () => {
    const started = Date.now();
    pg = await PrivatePostgres.create();
    setupMs = Date.now() - started;
    db = await createTestDatabase({ adminUrl: pg.adminUrl });
    ({ t, client } = await startApp(db.url));
  });
  afterAll(async () => {
    try {
      client?.close();
      await t?.close();
      if (db?.dataSource.isInitialized) await db.dataSource.destroy();
    } finally {
      await pg?.destroy(); // the whole cluster goes, with the database on it
    }
  });

  const signs = {
    fast: /received fast shutdown request[\s\S]*database system was shut down at[\s\S]*ready to accept connections/,
    immediate: /received immediate shutdown request[\s\S]*not properly shut down; automatic recovery in progress[\s\S]*ready to accept connections/,
  };

  it.each(['fast', 'immediate'] as const)(
    'recovers by itself after `pg_ctl restart -m %s` under load, losing no 202 and no mail',
    async (mode) => {
      const server = pg!;
      const l = load(client);
      await pollFor(() => (l.ok() >= 50 ? true : undefined), 15_000);
      const logBefore = server.log().length;
      const failedBefore = l.failed();
      const restartAt = Date.now();
      await server.restart(mode);
      const readyAt = Date.now();
      const okAtReady = l.ok();
      await pollFor(() => (l.ok() >= okAtReady + 100 ? true : undefined), 20_000);
      await l.stop();

      expect(server.log().slice(logBefore)).toMatch(signs[mode]);
      expect(l.failed()).toBeGreaterThan(failedBefore); // the restart was felt: the load ran through it
      expect(l.answers.slice(-50).every(isAccepted)).toBe(true); // and it is over: no failure among the last 50
      expectCleanFailures(l.answers);
      await expectAll202InDatabase(db, l.answers);
      const mail = await expectOutboxMailFor202(db, t, l.answers);
      // Once nothing is being claimed, sent or recorded, what stays leased is at most the batch of the one claim
      // whose answer the restart cut (claims go one at a time, 10 rows each): it waits for its lease, then goes.
      // (Counted before that, the deliveries still in flight count too: the dispatcher overlaps claims and sends.)
      await t.app.get(OtpMailDispatcher).whenIdle();
      const [{ leased }] = await db.dataSource.query(`SELECT count(*)::int AS leased FROM otp_mail_outbox
        WHERE kind = 'code' AND status = 'pending' AND claimed_until > now() AND challenge_id = ANY($1::uuid[])`, [acceptedIds(l.answers)]);
      expect(leased).toBeLessThanOrEqual(10);

      if (process.env.REPORT_TIMINGS) {
        const fails = l.at.filter((_, i) => !isAccepted(l.answers[i]));
        const firstOkAfterReady = l.at.find((ms, i) => ms >= readyAt && isAccepted(l.answers[i])) ?? NaN;
        console.log(
          `restart -m ${mode}: cluster initdb+start ${setupMs} ms; pg_ctl restart ${readyAt - restartAt} ms; ` +
          `${fails.length} x 5xx over ${fails.length ? fails[fails.length - 1] - fails[0] : 0} ms, last one ${Math.max(0, (fails[fails.length - 1] ?? readyAt) - readyAt)} ms after the server was ready; ` +
          `first 202 ${firstOkAfterReady - readyAt} ms after ready; ${l.ok()} x 202, mail ${mail.delivered} delivered, ${mail.leased} held by a lease (${leased} once idle)`,
        );
      }
    },
  );
});
