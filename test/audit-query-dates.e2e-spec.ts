import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { OtpAuditService } from '../src/otp';
import { HTTP_ADAPTERS, RELAXED_RATE_LIMITS } from './support/test-app';
import { BootedTestApp, testApp } from './support/test-app.builder';

/**
 * Dates JavaScript can hold but PostgreSQL cannot take (before 4713 BC, such as `-8640000000000000`;
 * `time zone displacement out of range` for some spellings) were a 500 on the audit searches:
 * years outside 1970..9999 are refused as bad input.
 */
const OUT_OF_RANGE: unknown[] = ['+275760-09-13T00:00:00.000Z', -8_640_000_000_000_000, '-004714-01-01T00:00:00.000Z', 8_640_000_000_000_000, '-000001-01-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z', '+010000-01-01T00:00:00.000Z'];

describe.each(HTTP_ADAPTERS)('audit searches with out-of-range dates (%s)', (adapter) => {
  const token = randomBytes(32).toString('base64url');
  let t: BootedTestApp;
  const http = () => request(t.app.getHttpServer());

  beforeAll(async () => {
    t = await testApp().withDatabase().adapter(adapter).env({ ...RELAXED_RATE_LIMITS, OTP_ADMIN_TOKEN: token }).boot();
  });
  afterAll(async () => t?.close());

  it('POST /admin/otp/audit/query (and export) refuse from/to outside years 1970..9999 with 400 validation_failed, not a 500', async () => {
    for (const path of ['/admin/otp/audit/query', '/admin/otp/audit/export']) {
      for (const field of ['from', 'to']) {
        for (const value of OUT_OF_RANGE) {
          const res = await http().post(path).set('Authorization', `Bearer ${token}`).send({ [field]: value });
          expect([path, field, value, res.status, res.body.error]).toEqual([path, field, value, 400, 'validation_failed']);
          expect(res.text).not.toMatch(/displacement|275760|stack/i);
        }
      }
    }
    const ok = await http().post('/admin/otp/audit/query').set('Authorization', `Bearer ${token}`)
      .send({ from: '1970-01-01T00:00:00.000Z', to: '9999-12-31T23:59:59.999Z' }).expect(200);
    expect(Array.isArray(ok.body.events)).toBe(true);
  });

  it('POST /admin/console/audit refuses them with 400 too (the bound is in OtpAuditService.list, shared by every caller)', async () => {
    const signedIn = await http().post('/admin/session').send({ token }).expect(200);
    const cookie = ([] as string[]).concat(signedIn.headers['set-cookie'] ?? [])[0].split(';')[0];
    const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec((await http().get('/admin').set('Cookie', cookie).expect(200)).text)?.[1];
    const search = (body: object) => http().post('/admin/console/audit').set('Cookie', cookie).set('X-CSRF-Token', csrf ?? '').send(body);
    await search({}).expect(200);
    for (const value of OUT_OF_RANGE) {
      const res = await search({ from: value });
      expect([value, res.status, res.body.error]).toEqual([value, 400, 'validation_failed']);
      expect(res.text).not.toMatch(/displacement|275760|stack/i);
    }
  });

  it('OtpAuditService.list refuses them before any query, as a 400 a host controller passes on', async () => {
    for (const at of [new Date(8.64e15), new Date(-8.64e15), new Date('1969-12-31T23:59:59.999Z'), new Date('+010000-01-01T00:00:00.000Z'), new Date(NaN)]) {
      for (const filter of [{ from: at }, { to: at }]) {
        await expect(t.app.get(OtpAuditService).list(filter)).rejects.toMatchObject({
          status: 400,
          response: { error: 'validation_failed', message: 'The request is not valid.', details: [expect.stringMatching(/^(from|to) must be a date from 1970 to 9999$/)] },
        });
      }
    }
  });
});
