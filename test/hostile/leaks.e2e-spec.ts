import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppReady } from '../../bench/lib/phases';
import { Child, startChild } from '../../bench/lib/child';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { HTTP_ADAPTERS, pollFor } from '../support/test-app';
import { allLimitsRaised, PRODUCTION_ENV } from './support/hostile-env';
import { RawClient } from './support/raw-http';
import { dumpAllTables, holdsCode } from '../support/table-dump';

/** Every file under `dir`, as text. */
function readTree(dir: string): string {
  let out = '';
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    const st = statSync(file);
    out += st.isDirectory() ? readTree(file) : `${file}\n${readFileSync(file).toString('latin1')}\n`;
  }
  return out;
}

/** A code standing alone (not inside a longer run of letters or digits, like a uuid or a timestamp). */
/**
 * R5/R37: after a full run (issue, right and wrong codes, resends, a code in a
 * query string, malformed requests), no table, no line the app logged (stdout
 * and stderr of its own process, every log level on) and no file in its temp
 * directory holds any code that was issued.
 */
describe('leaks: codes after a full run', () => {
  let db: TestDatabase;
  let app: Child<AppReady> | undefined;
  let client: RawClient;
  const appTmp = mkdtempSync(join(tmpdir(), 'otp-leak-'));

  beforeAll(async () => {
    db = await createTestDatabase();
    const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
    app = await startChild<AppReady>('app-server', {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TMPDIR: appTmp,
      ...PRODUCTION_ENV,
      ...allLimitsRaised(),
      // The jest project's adapter: the fastify project runs this suite on Fastify.
      HTTP_ADAPTER: HTTP_ADAPTERS[0],
      DATABASE_URL: db.url,
      OTP_KEYS: key('k1'),
      OTP_ENCRYPTION_KEYS: key('e1'),
      OTP_INDEX_KEY: randomBytes(32).toString('base64'), // required in production
      BENCH_CAPTURE_ALL: '1',
      BENCH_LOG_LEVELS: 'error,warn,log,debug,verbose,fatal',
      LOG_LEVEL: 'trace',
    }, 120_000);
    expect(app.ready.adapter).toBe(HTTP_ADAPTERS[0]);
    client = new RawClient(app.ready.port);
  }, 150_000);
  afterAll(async () => {
    client?.close();
    await app?.stop();
    await db?.drop();
    rmSync(appTmp, { recursive: true, force: true });
  });

  it('R5/R37: no table, log line or temp file holds an issued code', async () => {
    const c = app!;
    const latest = async () => (await c.request<{ latest: Record<string, string> }>({ cmd: 'codes' }, 'codes')).latest;
    const ids: string[] = [];
    /** A transfer code is the host's to issue: sign in with a code, then ask it on the payments route. */
    const transferChallenge = async (i: number) => {
      const address = `leak.${i}@example.com`;
      const login = await client.postJson('/auth/otp/challenges', { email: address, locale: 'pt-BR' }, { 'user-agent': 'leak-test' });
      const loginId = (login.json as { challengeId: string }).challengeId;
      const code = await pollFor(async () => (await latest())[loginId]);
      const token = ((await client.postJson(`/auth/otp/challenges/${loginId}/verify`, { code })).json as { token: string }).token;
      const session = await client.postJson('/accounts/sessions', { email: address }, { 'x-otp-token': token });
      const bearer = `Bearer ${(session.json as { sessionToken: string }).sessionToken}`;
      return client.postJson('/payments/transfers/challenges', { amount: i, to: 'bob' }, { authorization: bearer, 'user-agent': 'leak-test' });
    };
    for (let i = 0; i < 20; i++) {
      const r = i % 4 === 3
        ? await transferChallenge(i)
        : await client.postJson('/auth/otp/challenges', { email: `leak.${i}@example.com`, locale: 'en' }, { 'user-agent': 'leak-test' });
      expect(r.status).toBe(202);
      ids.push((r.json as { challengeId: string }).challengeId);
    }
    await pollFor(async () => (Object.keys(await latest()).length >= 20 ? true : undefined));
    let codes = await latest();
    // Resends (cooldown moved on the database) mail fresh codes.
    await db.dataSource.query(`UPDATE otp_challenges SET resend_available_at = now() WHERE id = ANY($1::uuid[])`, [ids.slice(0, 5)]);
    for (const id of ids.slice(0, 5)) expect((await client.send({ method: 'POST', path: `/auth/otp/challenges/${id}/resend` })).status).toBe(202);
    await pollFor(async () => ((await c.request<{ codes: string[] }>({ cmd: 'codes' }, 'codes')).codes.length >= 25 ? true : undefined));
    codes = await latest();
    for (const [i, id] of ids.entries()) {
      const code = codes[id];
      const context = i % 4 === 3 ? { amount: i, to: 'bob' } : undefined;
      // A code in the URL (refused) and a wrong code first, then the right one for half of them.
      await client.postJson(`/auth/otp/challenges/${id}/verify?code=${code}`, { code });
      await client.postJson(`/auth/otp/challenges/${id}/verify`, { code: code === '000000' ? '000001' : '000000', context });
      await client.postJson(`/auth/otp/challenges/${id}/verify`, { code: `${code}0000000`, context });
      if (i % 2 === 0) expect((await client.postJson(`/auth/otp/challenges/${id}/verify`, { code, context })).status).toBe(200);
    }
    await c.request({ cmd: 'prepare', n: 20, tag: 'leak' }, 'prepared');
    const all = (await c.request<{ codes: string[] }>({ cmd: 'codes' }, 'codes')).codes;
    expect(all.length).toBeGreaterThanOrEqual(45);
    await c.stop(); // flushes whatever the app still buffers

    const sources: Record<string, string> = {
      tables: await dumpAllTables(db.dataSource),
      logs: c.output.join(''),
      tmp: readTree(appTmp),
    };
    expect(sources.logs.length).toBeGreaterThan(0); // the capture really holds the app's output
    const found: string[] = [];
    for (const code of new Set(all)) {
      for (const [where, text] of Object.entries(sources)) if (holdsCode(text, code)) found.push(`${code} in ${where}`);
    }
    expect(found).toEqual([]);
  });
});
