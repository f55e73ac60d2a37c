import request from 'supertest';
import { TestApp, RELAXED_RATE_LIMITS } from './support/test-app';
import { testApp } from './support/test-app.builder';

/** The embedded default (`npm start` without DATABASE_URL): the same flows on PGlite. */
describe('Example app on embedded PGlite', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp().env(RELAXED_RATE_LIMITS).boot();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('signs in with an email code and makes a transfer approved by a code', async () => {
    const http = request(t.app.getHttpServer());
    const address = 'pglite.user@example.com';
    const token = async (purpose: string) => {
      const c = await http.post('/auth/otp/challenges').send({ email: address, purpose }).expect(202);
      const code = await t.codeFor(c.body.challengeId);
      return (await http.post(`/auth/otp/challenges/${c.body.challengeId}/verify`).send({ code }).expect(200)).body.token;
    };
    const session = (await http.post('/accounts/sessions').set('X-OTP-Token', await token('login')).send({ email: address }).expect(201)).body.sessionToken;
    const ctx = { amount: 42, to: 'bob' };
    // Transfer codes are issued by the host's route for the signed-in account, verified on the public one with the same context.
    const c = await http.post('/payments/transfers/challenges').set('Authorization', `Bearer ${session}`).send(ctx).expect(202);
    const code = await t.codeFor(c.body.challengeId);
    const approval = (await http.post(`/auth/otp/challenges/${c.body.challengeId}/verify`).send({ code, context: ctx }).expect(200)).body.token;
    await http.post('/payments/transfers').set('Authorization', `Bearer ${session}`).set('X-OTP-Token', approval).send(ctx).expect(201);
    await http.post('/payments/transfers').set('Authorization', `Bearer ${session}`).set('X-OTP-Token', approval).send(ctx).expect(401);
    const list = await http.get('/payments/transfers').set('Authorization', `Bearer ${session}`).expect(200);
    expect(list.body).toEqual([expect.objectContaining({ amount: 42, to: 'bob' })]);
    const me = await http.get('/accounts/me').set('Authorization', `Bearer ${session}`).expect(200);
    expect(me.body.session.amr).toEqual(['otp_email']);
  });
});
