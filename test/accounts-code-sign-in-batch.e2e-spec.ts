import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { AccountsStore, CODE_SIGN_IN_BATCH, CODE_SIGN_IN_STATEMENTS_IN_FLIGHT } from '../src/app/accounts/accounts.store';
import { holdThenTake, ownConnections } from './support/hold-then-take';
import { pollFor } from './support/test-app';
import { createTestDatabase, TestDatabase } from './support/test-database';

/**
 * The example app's code sign-ins by group commit (`CODE_SIGN_IN_BATCH`): concurrent sign-ins of distinct
 * addresses share a statement, and each gets what a statement of its own gave: its own account (created on
 * first use), and a session only while that account has no password (R16).
 */
describe('code sign-ins by group commit on PostgreSQL (R16)', () => {
  let db: TestDatabase;
  const pg = ownConnections(() => db.url);
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  /** A store on the test database, counting its sign-in statements and those the database refused. */
  function instance() {
    const store = new AccountsStore(db.dataSource);
    let statements = 0;
    const refused: string[] = [];
    const query = db.dataSource.query.bind(db.dataSource);
    const spy = jest.spyOn(db.dataSource, 'query').mockImplementation(((text: string, values?: unknown[]) => {
      if (text !== CODE_SIGN_IN_BATCH) return query(text, values);
      statements++;
      return query(text, values).catch((err: Error) => {
        refused.push(err.message);
        throw err;
      });
    }) as typeof db.dataSource.query);
    return { store, statements: () => statements, refused, restore: () => spy.mockRestore() };
  }

  let n = 0;
  const address = (label: string) => `${label}-${++n}.${process.pid}@example.com`;
  const AMR = ['otp', 'email'];
  const signIn = (store: AccountsStore, email: string, tokenHash = `hash-${randomUUID()}`) =>
    store.findOrCreateWithCodeSession(randomUUID(), email, tokenHash, AMR, 3600).then((out) => ({ ...out, tokenHash }));
  const sessionsOf = (email: string) => db.dataSource.query(
    `SELECT s.token_hash, s.amr FROM account_sessions s JOIN accounts a ON a.id = s.account_id WHERE a.email = $1 ORDER BY s.created_at`, [email]);

  afterEach(() => jest.restoreAllMocks());

  /** A store whose statements run on `client` (in its transaction, if it opened one). */
  const storeOn = (client: Client) => new AccountsStore({ query: async (text: string, values: unknown[]) => (await client.query(text, values)).rows } as never);

  it('R16: concurrent sign-ins share statements; each gets its own account, and a session only where the account has no password', async () => {
    const setup = new AccountsStore(db.dataSource);
    const existing = Array.from({ length: 10 }, () => address('known'));
    const known = await Promise.all(existing.map((e) => setup.findOrCreate(randomUUID(), e)));
    const withPassword = Array.from({ length: 10 }, () => address('pwd'));
    for (const e of withPassword) {
      const account = await setup.findOrCreate(randomUUID(), e);
      await db.dataSource.query(`UPDATE accounts SET password_hash = 'scrypt$x', password_set_at = now() WHERE id = $1`, [account.id]);
    }
    const fresh = Array.from({ length: 20 }, () => address('new'));
    const emails = [...existing, ...withPassword, ...fresh].sort(() => Math.random() - 0.5);

    const { store, statements, refused } = instance();
    const outcomes = await Promise.all(emails.map((e) => signIn(store, e)));

    expect(statements()).toBeLessThan(emails.length / 2);
    // The first ones to arrive go alone while a slot is free; the rest wait and go together.
    expect(statements()).toBeGreaterThan(CODE_SIGN_IN_STATEMENTS_IN_FLIGHT);
    expect(refused).toEqual([]);
    for (const [i, email] of emails.entries()) {
      const out = outcomes[i];
      expect(out.account.email).toBe(email);
      const sessions = await sessionsOf(email);
      if (withPassword.includes(email)) {
        expect(out.account.passwordHash).toBe('scrypt$x');
        expect(out.expiresAt).toBeNull();
        expect(sessions).toEqual([]);
      } else {
        expect(out.account.passwordHash).toBeNull();
        expect(out.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
        expect(sessions).toEqual([{ token_hash: out.tokenHash, amr: AMR }]);
      }
      const knownAccount = known.find((a) => a.email === email);
      if (knownAccount) expect(out.account.id).toBe(knownAccount.id);
    }
    const [{ accounts }] = await db.dataSource.query(`SELECT count(*)::int AS accounts FROM accounts WHERE email = ANY($1)`, [emails]);
    expect(accounts).toBe(emails.length);
  });

  it('R16: sign-ins of one address at once never share a statement, and all open sessions on its one account', async () => {
    const { store, refused } = instance();
    const email = address('twice');
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => signIn(store, email)));
    expect(refused).toEqual([]);
    expect(new Set(outcomes.map((o) => o.account.id)).size).toBe(1);
    expect(outcomes.every((o) => o.expiresAt !== null)).toBe(true);
    expect((await sessionsOf(email)).map((s: { token_hash: string }) => s.token_hash).sort()).toEqual(outcomes.map((o) => o.tokenHash).sort());
  });

  it('a batch the database refuses is written again one sign-in at a time: only the refused one fails', async () => {
    const { store, statements, refused } = instance();
    const taken = `hash-${randomUUID()}`;
    const first = address('first');
    await signIn(store, first, taken);
    const emails = Array.from({ length: 12 }, () => address('batch'));
    // The last one reuses a session token hash (the primary key): its batch is refused as a whole.
    const settled = await Promise.allSettled(emails.map((e, i) => signIn(store, e, i === emails.length - 1 ? taken : undefined)));
    expect(refused.some((m) => /duplicate key/.test(m))).toBe(true);
    expect(statements()).toBeGreaterThan(emails.length); // the refused batch, then its sign-ins one by one
    for (const [i, s] of settled.entries()) {
      if (i === emails.length - 1) {
        expect(s.status).toBe('rejected');
        continue;
      }
      expect(s.status).toBe('fulfilled');
      const out = (s as PromiseFulfilledResult<Awaited<ReturnType<typeof signIn>>>).value;
      expect(await sessionsOf(emails[i])).toEqual([{ token_hash: out.tokenHash, amr: AMR }]);
    }
    expect(await sessionsOf(first)).toEqual([{ token_hash: taken, amr: AMR }]);
  });

  it('a batch upserts its accounts in the order of their address, not of its inputs: no deadlock with a holder of the first', async () => {
    const low = address('order-a');
    const high = low.replace('order-a', 'order-b');
    const setup = new AccountsStore(db.dataSource);
    for (const e of [high, low]) await setup.findOrCreate(randomUUID(), e);
    // Inputs in the other order: the address that sorts second first.
    const batch = { text: CODE_SIGN_IN_BATCH, values: [[randomUUID(), randomUUID()], [high, low], [`hash-${randomUUID()}`, `hash-${randomUUID()}`], AMR, 3600] };
    const { took, batch: answered } = await holdThenTake(pg.connect, 'SELECT 1 FROM accounts WHERE email = $1 FOR UPDATE', low, high, batch);
    expect(took).toBe('took it');
    expect(answered).toBe(2);
    expect((await sessionsOf(low)).length + (await sessionsOf(high)).length).toBe(2);
  });

  it('R16: a first password committed while a batch waits for its account: no code-only session there, one for the others', async () => {
    const setup = new AccountsStore(db.dataSource);
    const racing = address('race');
    const other = address('race-other');
    const account = await setup.findOrCreate(randomUUID(), racing);
    const holder = await pg.connect();
    await holder.query('BEGIN');
    await holder.query(`UPDATE accounts SET password_hash = 'scrypt$meanwhile', password_set_at = now() WHERE id = $1`, [account.id]);
    const runner = await pg.connect();
    const [{ pid }] = (await runner.query('SELECT pg_backend_pid() AS pid')).rows;
    const batch = runner.query(CODE_SIGN_IN_BATCH,
      [[randomUUID(), randomUUID()], [racing, other], [`hash-${randomUUID()}`, `hash-${randomUUID()}`], AMR, 3600]).then((r) => r.rows);
    batch.catch(() => undefined);
    await pollFor(async () => (await holder.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`, [pid])).rowCount || undefined, 5000);
    await holder.query('COMMIT');
    const rows: { email: string; password_hash: string | null; session_expires_at: Date | null }[] = await batch;
    expect(rows.map((r) => [r.email, r.password_hash, r.session_expires_at === null])).toEqual([[racing, 'scrypt$meanwhile', true], [other, null, false]]);
    expect(await sessionsOf(racing)).toEqual([]);
    expect(await sessionsOf(other)).toHaveLength(1);
  });

  it('R16: a first password set while a code sign-in holds the account ends the session that sign-in opened', async () => {
    const setup = new AccountsStore(db.dataSource);
    const email = address('late-session');
    const keep = `hash-${randomUUID()}`;
    const { account } = await signIn(setup, email, keep);
    // The sign-in's statement runs in a transaction of its own, left open: it holds the account row.
    const holder = await pg.connect();
    await holder.query('BEGIN');
    const late = `hash-${randomUUID()}`;
    const opened = await holder.query(CODE_SIGN_IN_BATCH, [[randomUUID()], [email], [late], AMR, 3600]);
    expect(opened.rows[0].session_expires_at).not.toBeNull();
    const [{ pid }] = (await holder.query('SELECT pg_backend_pid() AS pid')).rows;
    const changing = setup.replacePasswordEndingOtherSessions(account.id, null, 'scrypt$first', keep);
    changing.catch(() => undefined);
    // The password change waits for the account row; then the sign-in commits its session.
    await pollFor(async () => (await holder.query(
      `SELECT 1 FROM pg_locks w JOIN pg_locks h ON h.transactionid = w.transactionid AND h.granted AND NOT w.granted WHERE h.pid = $1`, [pid])).rowCount || undefined, 5000);
    await holder.query('COMMIT');
    expect(await changing).toBe(true);
    expect(await setup.findLiveSession(late)).toBeNull();
    expect(await setup.findLiveSession(keep)).not.toBeNull();
  });

  it('R16: a password sign-in that read the old password while it was being changed opens no live session', async () => {
    const setup = new AccountsStore(db.dataSource);
    const email = address('old-password');
    const keep = `hash-${randomUUID()}`;
    const { account } = await signIn(setup, email, keep);
    expect(await setup.replacePasswordEndingOtherSessions(account.id, null, 'scrypt$old', keep)).toBe(true);
    // The sign-in's insert runs in a transaction of its own, left open: it read the old password.
    const holder = await pg.connect();
    const onHolder = storeOn(holder);
    await holder.query('BEGIN');
    const late = `hash-${randomUUID()}`;
    expect(await onHolder.insertSession(late, account.id, ['pwd', 'otp_email'], 3600, 'scrypt$old')).not.toBeNull();
    // The change does not wait for it (the insert's foreign-key lock allows the update), and cannot see it.
    expect(await setup.replacePasswordEndingOtherSessions(account.id, 'scrypt$old', 'scrypt$new', keep)).toBe(true);
    await holder.query('COMMIT');
    expect(await setup.findLiveSession(late)).toBeNull();
    expect(await setup.findLiveSession(keep)).not.toBeNull();
    // A sign-in with the new password opens a live session.
    const fresh = `hash-${randomUUID()}`;
    expect(await setup.insertSession(fresh, account.id, ['pwd', 'otp_email'], 3600, 'scrypt$new')).not.toBeNull();
    expect(await setup.findLiveSession(fresh)).not.toBeNull();
  });

  it('the upserts lock the account FOR NO KEY UPDATE: a session for it (its foreign-key check) does not wait for them', async () => {
    const email = address('fk');
    const { account } = await signIn(new AccountsStore(db.dataSource), email);
    const holder = await pg.connect();
    const other = await pg.connect();
    await other.query(`SET lock_timeout = '300ms'`);
    for (const upsert of [(s: AccountsStore) => s.findOrCreate(randomUUID(), email), (s: AccountsStore) => signIn(s, email)]) {
      await holder.query('BEGIN');
      await upsert(storeOn(holder));
      const inserted = await other.query(`INSERT INTO account_sessions (token_hash, account_id, amr, expires_at, password_set_at)
        VALUES ($1, $2, $3, now() + interval '1 hour', NULL)`, [`hash-${randomUUID()}`, account.id, AMR]).then(() => 'inserted', (err: Error) => err.message);
      await holder.query('COMMIT');
      expect(inserted).toBe('inserted');
    }
  });

  it('sign-ins with other methods never share a statement: each session keeps its own amr', async () => {
    const { store } = instance();
    const methods = [['otp email'], ['otp', 'email'], ['otp', 'email'], ['otp email']];
    // The first takes the free slot; the others wait and are batched by their settings.
    const emails = methods.map(() => address('amr'));
    const outs = await Promise.all(emails.map((e, i) => store.findOrCreateWithCodeSession(randomUUID(), e, `hash-${randomUUID()}`, methods[i], 3600)));
    expect(outs.every((o) => o.expiresAt !== null)).toBe(true);
    for (const [i, e] of emails.entries()) expect((await sessionsOf(e)).map((r: { amr: string[] }) => r.amr)).toEqual([methods[i]]);
  });
});
