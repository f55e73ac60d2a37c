import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AccountsStore } from '../src/app/accounts/accounts.store';
import { OtpService } from '../src/otp';
import type { TestDatabase } from './support/test-database';
import { RELAXED_RATE_LIMITS } from './support/test-app';
import { BootedTestApp, testApp } from './support/test-app.builder';
import { OtpMailDispatcher } from '../src/otp/mail/outbox/otp-mail.dispatcher';

type Context = { amount: number; to: string };

describe('Example app: accounts and payments over HTTP', () => {
  let db: TestDatabase;
  let t: BootedTestApp;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    t = await testApp().withDatabase().env(RELAXED_RATE_LIMITS).boot();
    db = t.db;
    http = request(t.app.getHttpServer());
  });
  afterAll(async () => t?.close());

  let n = 0;
  const email = (who = 'user') => `${who}${++n}.${Date.now()}@example.com`;

  /** Asks a sign-in code on the public route, reads it from the development mailbox, verifies it: the proof token. */
  async function otpToken(address: string): Promise<string> {
    const issued = await http.post('/auth/otp/challenges').send({ email: address }).expect(202);
    const code = await t.codeFor(issued.body.challengeId);
    const verified = await http.post(`/auth/otp/challenges/${issued.body.challengeId}/verify`).send({ code }).expect(200);
    return verified.body.token;
  }

  /** Asks a transfer code on the host's route (for the signed-in account), verifies it with the same context: the proof token. */
  async function transferToken(session: string, context: Context): Promise<string> {
    const issued = await http.post('/payments/transfers/challenges').set('Authorization', `Bearer ${session}`).send(context).expect(202);
    const code = await t.codeFor(issued.body.challengeId);
    const verified = await http.post(`/auth/otp/challenges/${issued.body.challengeId}/verify`).send({ code, context }).expect(200);
    return verified.body.token;
  }

  /** Mails written so far (the outbox drained first, so a mail that was going to be sent has been). */
  async function mailCount(): Promise<number> {
    await t.app.get(OtpMailDispatcher).whenIdle();
    return t.mailbox.list().length;
  }

  async function signIn(address: string): Promise<string> {
    const res = await http.post('/accounts/sessions').set('X-OTP-Token', await otpToken(address)).send({ email: address }).expect(201);
    return res.body.sessionToken;
  }

  const transfer = (session: string, token: string | undefined, body: Record<string, unknown>) => {
    const req = http.post('/payments/transfers').set('Authorization', `Bearer ${session}`);
    return (token ? req.set('X-OTP-Token', token) : req).send(body);
  };

  const transfersOf = async (session: string) =>
    (await http.get('/payments/transfers').set('Authorization', `Bearer ${session}`).expect(200)).body as unknown[];

  describe('passwordless sign-in', () => {
    it('creates the account on first use and signs the same account in again', async () => {
      const address = email();
      const first = await http.post('/accounts/sessions').set('X-OTP-Token', await otpToken(address)).send({ email: address }).expect(201);
      expect(first.body).toEqual({ sessionToken: expect.stringMatching(/^ses_[A-Za-z0-9_-]{43}$/), expiresAt: expect.any(String) });
      expect(first.headers['cache-control']).toBe('no-store');
      expect(first.headers['pragma']).toBe('no-cache');
      const me = await http.get('/accounts/me').set('Authorization', `Bearer ${first.body.sessionToken}`).expect(200);
      expect(me.headers['cache-control']).toBe('no-store');
      const refused = await http.post('/accounts/sessions').set('X-OTP-Token', await otpToken(address)).send({ email: address, extra: 1 }).expect(400);
      expect(refused.headers['cache-control']).toBe('no-store');
      expect(me.body).toMatchObject({ email: address, hasPassword: false, session: { amr: ['otp_email'] } });
      const again = await http.get('/accounts/me').set('Authorization', `Bearer ${await signIn(address.toUpperCase())}`).expect(200);
      expect(again.body.id).toBe(me.body.id);
    });

    it('refuses a missing token, a token mailed to another address, and a reused token', async () => {
      const victim = email('victim');
      const none = await http.post('/accounts/sessions').send({ email: victim }).expect(401);
      expect(none.body).toEqual({ error: 'otp_required', message: expect.any(String) });
      const attackers = await otpToken(email('attacker'));
      await http.post('/accounts/sessions').set('X-OTP-Token', attackers).send({ email: victim }).expect(401);
      const token = await otpToken(victim);
      await http.post('/accounts/sessions').set('X-OTP-Token', token).send({ email: victim }).expect(201);
      await http.post('/accounts/sessions').set('X-OTP-Token', token).send({ email: victim }).expect(401);
    });

    it('refuses a transfer-purpose token for sign-in', async () => {
      const address = email();
      const token = await transferToken(await signIn(address), { amount: 1, to: 'bob' });
      const res = await http.post('/accounts/sessions').set('X-OTP-Token', token).send({ email: address }).expect(401);
      expect(res.body.error).toBe('otp_required');
    });

    it('GET /accounts/me needs a live session', async () => {
      await http.get('/accounts/me').expect(401);
      const res = await http.get('/accounts/me').set('Authorization', `Bearer ses_${'x'.repeat(43)}`).expect(401);
      expect(res.body.error).toBe('session_required');
      const session = await signIn(email());
      await http.delete('/accounts/sessions/current').set('Authorization', `Bearer ${session}`).expect(204);
      await http.get('/accounts/me').set('Authorization', `Bearer ${session}`).expect(401);
    });
  });

  describe('password plus email code', () => {
    it('R16: a code-only session is not opened when a first password landed after the sign-in read the account', async () => {
      const store = t.app.get(AccountsStore);
      const stale = await store.findOrCreate(randomUUID(), `race.${Date.now()}@example.com`);
      expect(stale.passwordHash).toBeNull();
      await t.app.get(DataSource).query(`UPDATE accounts SET password_hash = 'scrypt$set-meanwhile' WHERE id = $1`, [stale.id]);
      expect(await store.insertSession(`h-${Date.now()}`, stale.id, ['otp_email'], 60, stale.passwordHash)).toBeNull();
      expect(await store.insertSession(`h2-${Date.now()}`, stale.id, ['pwd', 'otp_email'], 60, 'scrypt$set-meanwhile')).not.toBeNull();
    });

    it('R16: the one-statement code sign-in opens no session on an account that has a password, and one on an account without', async () => {
      const store = t.app.get(AccountsStore);
      const db = t.app.get(DataSource);
      const address = `one-statement.${Date.now()}@example.com`;
      const first = await store.findOrCreateWithCodeSession(randomUUID(), address, `h1-${Date.now()}`, ['otp_email'], 60);
      expect(first.account.passwordHash).toBeNull();
      expect(first.expiresAt).toBeInstanceOf(Date);
      await db.query(`UPDATE accounts SET password_hash = 'scrypt$set-meanwhile' WHERE id = $1`, [first.account.id]);
      const refused = await store.findOrCreateWithCodeSession(randomUUID(), address, `h2-${Date.now()}`, ['otp_email'], 60);
      expect(refused.account.id).toBe(first.account.id);
      expect(refused.account.passwordHash).toBe('scrypt$set-meanwhile');
      expect(refused.expiresAt).toBeNull();
      const [{ n }] = await db.query(`SELECT count(*)::int AS n FROM account_sessions WHERE account_id = $1`, [first.account.id]);
      expect(n).toBe(1);
    });

    it('R16: once a password is set, an email code alone no longer signs in; password and code do', async () => {
      const address = email();
      const password = 'correct horse battery staple';
      const otpOnly = await signIn(address);
      await http.post('/accounts/password').set('Authorization', `Bearer ${otpOnly}`).send({ password }).expect(204);

      const codeAlone = await http.post('/accounts/sessions').set('X-OTP-Token', await otpToken(address)).send({ email: address }).expect(403);
      expect(codeAlone.body.error).toBe('password_required');
      await http.post('/accounts/sessions/password').send({ email: address, password }).expect(401);
      const wrong = await http.post('/accounts/sessions/password').set('X-OTP-Token', await otpToken(address))
        .send({ email: address, password: 'not the password' }).expect(401);
      expect(wrong.body.error).toBe('invalid_credentials');

      const both = await http.post('/accounts/sessions/password').set('X-OTP-Token', await otpToken(address))
        .send({ email: address, password }).expect(201);
      const me = await http.get('/accounts/me').set('Authorization', `Bearer ${both.body.sessionToken}`).expect(200);
      expect(me.body).toMatchObject({ email: address, hasPassword: true, session: { amr: ['pwd', 'otp_email'] } });
    });

    it('R16: changing a password needs the current one, and an email-code session cannot reset it', async () => {
      const address = email();
      const session = await signIn(address);
      await http.post('/accounts/password').set('Authorization', `Bearer ${session}`).send({ password: 'first password 1234' }).expect(204);
      const res = await http.post('/accounts/password').set('Authorization', `Bearer ${session}`).send({ password: 'second password 1234' }).expect(403);
      expect(res.body.error).toBe('current_password_required');
      await http.post('/accounts/password').set('Authorization', `Bearer ${session}`)
        .send({ password: 'second password 1234', currentPassword: 'wrong' }).expect(401);
      await http.post('/accounts/password').set('Authorization', `Bearer ${session}`)
        .send({ password: 'second password 1234', currentPassword: 'first password 1234' }).expect(204);
    });

    it('R16: two sessions racing to set the first password: one wins, the other cannot overwrite it', async () => {
      const address = email();
      const [a, b] = [await signIn(address), await signIn(address)];
      const answers = await Promise.all([
        http.post('/accounts/password').set('Authorization', `Bearer ${a}`).send({ password: 'password of session a' }),
        http.post('/accounts/password').set('Authorization', `Bearer ${b}`).send({ password: 'password of session b' }),
      ]);
      const statuses = answers.map((r) => r.status);
      expect(statuses.filter((s) => s === 204)).toHaveLength(1);
      expect(statuses.find((s) => s !== 204)).toBeGreaterThanOrEqual(401);
      expect(statuses.find((s) => s !== 204)).toBeLessThanOrEqual(403);
      const winner = statuses[0] === 204 ? 'password of session a' : 'password of session b';
      const loser = statuses[0] === 204 ? 'password of session b' : 'password of session a';
      await http.post('/accounts/sessions/password').set('X-OTP-Token', await otpToken(address)).send({ email: address, password: loser }).expect(401);
      await http.post('/accounts/sessions/password').set('X-OTP-Token', await otpToken(address)).send({ email: address, password: winner }).expect(201);
    });

    it('setting a password ends the other sessions of the account', async () => {
      const address = email();
      const a = await signIn(address);
      const b = await signIn(address);
      await http.post('/accounts/password').set('Authorization', `Bearer ${a}`).send({ password: 'a long enough password' }).expect(204);
      await http.get('/accounts/me').set('Authorization', `Bearer ${a}`).expect(200);
      await http.get('/accounts/me').set('Authorization', `Bearer ${b}`).expect(401);
    });

    it('refuses a password sign-in for an account without a password, alike', async () => {
      const address = email();
      await signIn(address);
      const res = await http.post('/accounts/sessions/password').set('X-OTP-Token', await otpToken(address))
        .send({ email: address, password: 'anything at all' }).expect(401);
      expect(res.body.error).toBe('invalid_credentials');
    });

    it('validates bodies: unknown fields and short passwords get 400, never 500', async () => {
      const session = await signIn(email());
      const extra = await http.post('/accounts/password').set('Authorization', `Bearer ${session}`).send({ password: 'long enough password', admin: true }).expect(400);
      expect(extra.body.error).toBe('validation_failed');
      await http.post('/accounts/password').set('Authorization', `Bearer ${session}`).send({ password: 'short' }).expect(400);
      await http.post('/accounts/password').set('Authorization', `Bearer ${session}`).set('content-type', 'application/json').send('{"password":').expect(400);
    });
  });

  describe('transfer challenges (the host issues them)', () => {
    const ctx = { amount: 125.5, to: 'alice' };
    const challenge = (session: string | undefined, body: unknown) => {
      const req = http.post('/payments/transfers/challenges');
      return (session ? req.set('Authorization', `Bearer ${session}`) : req).send(body as object);
    };

    it('R25: POST /payments/transfers/challenges answers 202 with the challenge shape and mails the signed-in account its amount and payee', async () => {
      const address = email();
      const session = await signIn(address);
      const res = await challenge(session, ctx).expect(202);
      expect(Object.keys(res.body).sort()).toEqual(['challengeId', 'expiresAt', 'resendAvailableAt']);
      expect(res.body.challengeId).toMatch(/^[0-9a-f-]{36}$/);
      expect(new Date(res.body.expiresAt).getTime()).toBeGreaterThan(Date.now());
      expect(res.headers['cache-control']).toBe('no-store');
      await t.codeFor(res.body.challengeId);
      const mail = t.mailbox.list().find((m) => m.challengeId === res.body.challengeId)!;
      expect(mail).toMatchObject({ to: address, purpose: 'transfer', context: ctx });
    });

    it('R25: the code verifies on the public route with the same context, and the transfer it approves goes through once', async () => {
      const session = await signIn(email());
      const issued = await challenge(session, ctx).expect(202);
      const code = await t.codeFor(issued.body.challengeId);
      await http.post(`/auth/otp/challenges/${issued.body.challengeId}/verify`).send({ code }).expect(401);
      const again = await challenge(session, ctx).expect(202);
      const fresh = await t.codeFor(again.body.challengeId);
      const { token } = (await http.post(`/auth/otp/challenges/${again.body.challengeId}/verify`).send({ code: fresh, context: ctx }).expect(200)).body;
      await transfer(session, token, ctx).expect(201);
      await transfer(session, token, ctx).expect(401);
      expect(await transfersOf(session)).toHaveLength(1);
    });

    it('answers 401 session_required without a live session, and mails nothing', async () => {
      const before = await mailCount();
      const none = await challenge(undefined, ctx).expect(401);
      expect(none.body).toEqual({ error: 'session_required', message: expect.any(String) });
      const forged = await challenge(`ses_${'x'.repeat(43)}`, ctx).expect(401);
      expect(forged.body.error).toBe('session_required');
      expect(await mailCount()).toBe(before);
    });

    it.each<[string, unknown, string]>([
      ['a missing amount', { to: 'alice' }, 'validation_failed'],
      ['a negative amount', { amount: -5, to: 'alice' }, 'validation_failed'],
      ['an amount as text', { amount: '125.5', to: 'alice' }, 'validation_failed'],
      ['a payee that is a sentence', { amount: 1, to: 'FRAUD ALERT call 0800 555 0100 now' }, 'validation_failed'],
      ['an address to mail instead', { ...{ amount: 1, to: 'alice' }, email: 'attacker@example.com' }, 'validation_failed'],
      ['an operator object', { amount: { $gt: 0 }, to: 'alice' }, 'validation_failed'],
      ['a payee the mail cannot show (@)', { amount: 1, to: 'alice@bank' }, 'otp_context_invalid'],
    ])('answers 400 for %s, never 500, and mails nothing', async (_name, body, error) => {
      const session = await signIn(email());
      const before = await mailCount();
      const res = await challenge(session, body).expect(400);
      expect(res.body.error).toBe(error);
      expect(await mailCount()).toBe(before);
    });

    it('R36: the public issue route refuses purpose "transfer", whatever the address and context', async () => {
      const before = await mailCount();
      const res = await http.post('/auth/otp/challenges').send({ email: email(), purpose: 'transfer', context: ctx }).expect(400);
      expect(res.body.error).toBe('otp_purpose_unknown');
      expect(await mailCount()).toBe(before);
    });

    it("R36: a resend on the public route mails the same account the same amount and payee again (nothing a client chooses)", async () => {
      const address = email();
      const session = await signIn(address);
      const issued = await challenge(session, ctx).expect(202);
      await t.codeFor(issued.body.challengeId);
      await t.app.get(DataSource).query(`UPDATE otp_challenges SET resend_available_at = now() WHERE id = $1`, [issued.body.challengeId]);
      await http.post(`/auth/otp/challenges/${issued.body.challengeId}/resend`).expect(202);
      await t.app.get(OtpMailDispatcher).whenIdle();
      const mails = t.mailbox.list().filter((m) => m.challengeId === issued.body.challengeId);
      expect(mails).toHaveLength(2);
      for (const m of mails) expect(m).toMatchObject({ to: address, purpose: 'transfer', context: ctx });
    });
  });

  describe('transfers', () => {
    const ctx = { amount: 125.5, to: 'alice' };

    it('R25: a code approving { amount, to } moves exactly that, once', async () => {
      const address = email();
      const session = await signIn(address);
      const token = await transferToken(session, ctx);
      const res = await transfer(session, token, { to: 'alice', amount: 125.5 }).expect(201);
      expect(res.body).toEqual({ id: expect.any(String), amount: 125.5, to: 'alice', createdAt: expect.any(String) });
      await transfer(session, token, ctx).expect(401);
      expect(await transfersOf(session)).toHaveLength(1);
    });

    it('R24: ten concurrent transfers with one token move money once', async () => {
      const address = email();
      const session = await signIn(address);
      const token = await transferToken(session, ctx);
      const answers = await Promise.all(Array.from({ length: 10 }, () => transfer(session, token, ctx)));
      expect(answers.map((r) => r.status).sort()).toEqual([201, ...Array(9).fill(401)]);
      expect(await transfersOf(session)).toHaveLength(1);
    });

    it('R25: a transfer with a changed amount or a changed payee is refused', async () => {
      const address = email();
      const session = await signIn(address);
      const more = await transfer(session, await transferToken(session, ctx), { ...ctx, amount: 9999 }).expect(401);
      expect(more.body).toEqual({ error: 'otp_required', message: expect.any(String) });
      await transfer(session, await transferToken(session, ctx), { ...ctx, to: 'mallory' }).expect(401);
      expect(await transfersOf(session)).toHaveLength(0);
    });

    it("refuses a transfer from the victim's session with a code sent to the attacker's own mailbox", async () => {
      const victim = email('victim');
      const attacker = email('attacker');
      const victimSession = await signIn(victim);
      // The attacker rides the victim's session but can only read their own mail.
      const attackersToken = await transferToken(await signIn(attacker), ctx);
      const res = await transfer(victimSession, attackersToken, ctx).expect(401);
      expect(res.body.error).toBe('otp_required');
      expect(await transfersOf(victimSession)).toHaveLength(0);
      // The same kind of code, mailed to the victim, works on the victim's session.
      await transfer(victimSession, await transferToken(victimSession, ctx), ctx).expect(201);
    });

    it("a victim's code cannot move money from another user's session", async () => {
      const victim = email('victim');
      const other = email('other');
      const victimSession = await signIn(victim);
      const otherSession = await signIn(other);
      await transfer(otherSession, await transferToken(victimSession, ctx), ctx).expect(401);
      expect(await transfersOf(otherSession)).toHaveLength(0);
    });

    it('needs a session, a token, and the transfer purpose', async () => {
      const address = email();
      const session = await signIn(address);
      const noSession = await http.post('/payments/transfers').set('X-OTP-Token', await transferToken(session, ctx)).send(ctx).expect(401);
      expect(noSession.body.error).toBe('session_required');
      await transfer(session, undefined, ctx).expect(401);
      await transfer(session, await otpToken(address), ctx).expect(401);
      expect(await transfersOf(session)).toHaveLength(0);
    });

    it('bad bodies get 400, never 500', async () => {
      const address = email();
      const session = await signIn(address);
      const missing = await transfer(session, await transferToken(session, ctx), { to: 'alice' }).expect(400);
      expect(missing.body.error).toBe('otp_context_invalid');
      await transfer(session, await transferToken(session, ctx), { amount: { $gt: 0 }, to: 'alice' }).expect(400);
      const extra = await transfer(session, await transferToken(session, ctx), { ...ctx, memo: 'x' }).expect(400);
      expect(extra.body.error).toBe('validation_failed');
      // A host could bind a code to a negative amount (OtpService.issue checks types, not business rules): the transfer DTO still refuses it.
      const negative = { amount: -5, to: 'alice' };
      const issued = await t.app.get(OtpService).issue({ email: address, purpose: 'transfer', context: negative });
      const code = await t.codeFor(issued.challengeId);
      const { token } = (await http.post(`/auth/otp/challenges/${issued.challengeId}/verify`).send({ code, context: negative }).expect(200)).body;
      await transfer(session, token, negative).expect(400);
      expect(await transfersOf(session)).toHaveLength(0);
    });
  });
});
