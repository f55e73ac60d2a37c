import request from 'supertest';
import { HTTP_ADAPTERS, RELAXED_RATE_LIMITS } from './support/test-app';
import { BootedTestApp, testApp } from './support/test-app.builder';

/** A path the router cannot decode: `%A` is half an escape, after a cut UTF-8 sequence. */
const UNDECODABLE = '%E0%A4%A';

describe.each(HTTP_ADAPTERS)('error answers never echo the request (%s)', (adapter) => {
  let t: BootedTestApp;
  const http = () => request(t.app.getHttpServer());

  beforeAll(async () => {
    t = await testApp().withDatabase().adapter(adapter).env(RELAXED_RATE_LIMITS).boot();
  });
  afterAll(async () => t?.close());

  it('an undecodable path parameter is a 400 in the error shape with a fixed message, not one quoting the parameter', async () => {
    for (const req of [
      http().post(`/auth/otp/challenges/${UNDECODABLE}/verify`).send({ code: '123456' }),
      http().post(`/auth/otp/challenges/${UNDECODABLE}/resend`).send({}),
      http().get(`/assets/${UNDECODABLE}`),
    ]) {
      const res = await req;
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ error: 'bad_request', message: 'The request is not valid.' });
      expect(res.text).not.toMatch(/%E0|%A4|decode/i);
    }
  });

  it('a path parameter longer than the router takes is refused without quoting it', async () => {
    const long = 'a'.repeat(150);
    const res = await http().post(`/auth/otp/challenges/${long}/verify`).send({ code: '123456' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body).toEqual({ error: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) });
    expect(res.text).not.toContain('aaaaaaaa');
  });

  it('an unknown route is a 404 with a fixed message, not one naming the path', async () => {
    const res = await http().get('/no-such-route-x7').expect(404);
    expect(res.body).toEqual({ error: 'not_found', message: 'Not found.' });
  });

  it('validation details stay as they are: they are the module\'s own words', async () => {
    const res = await http().post('/auth/otp/challenges').send({ email: 'a@example.com', admin: true }).expect(400);
    expect(res.body).toEqual({ error: 'validation_failed', message: 'The request is not valid.', details: ['property admin should not exist'] });
  });
});
