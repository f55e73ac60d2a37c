import request from 'supertest';
import { OtpAuditService, OtpErasureService } from '../src/otp';
import { TestApp } from './support/test-app';
import { testApp } from './support/test-app.builder';

describe('embedded mode (PGlite, no DATABASE_URL)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp().env({ DATABASE_URL: undefined }).boot();
  });
  afterAll(async () => t?.close());

  it('boots, migrates itself, and does an issue/verify round trip over HTTP', async () => {
    const http = request(t.app.getHttpServer());
    const issued = await http.post('/auth/otp/challenges').send({ email: 'embedded@example.com' }).expect(202);
    const code = await t.codeFor(issued.body.challengeId);
    const ok = await http.post(`/auth/otp/challenges/${issued.body.challengeId}/verify`).send({ code }).expect(200);
    expect(ok.body.purpose).toBe('login');
    await http.post(`/auth/otp/challenges/${issued.body.challengeId}/verify`).send({ code }).expect(401);
  });

  it('R40: the audit chain (version 2 rows, chained erasure) verifies on PGlite too', async () => {
    const audit = t.app.get(OtpAuditService);
    const report = await t.app.get(OtpErasureService).eraseEmail('embedded@example.com');
    expect(report.otp_audit_log).toBeGreaterThan(0);
    const verified = await audit.verifyChain();
    expect(verified).toMatchObject({ ok: true });
    expect(verified.rows).toBeGreaterThan(report.otp_audit_log);
    expect((await audit.list({ event: 'audit.erased' })).at(-1)?.detail).toMatchObject({ rows: report.otp_audit_log });
  });
});
