import { Logger } from '@nestjs/common';
import request from 'supertest';
import { OTP_MIGRATIONS } from '../src/otp';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { HTTP_ADAPTERS } from './support/test-app';
import { testApp } from './support/test-app.builder';

describe.each(HTTP_ADAPTERS)('a database without the migrations (%s)', (adapter) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterEach(async () => db?.drop());

  it('development: one line names the pending migrations, OTP routes answer 503 otp_unavailable, /health says database: schema_out_of_date, the dispatcher does not spin', async () => {
    const errors: string[] = [];
    const spy = jest.spyOn(Logger.prototype, 'error').mockImplementation(function (this: Logger, message: unknown) {
      errors.push(String(message));
    });
    try {
      const t = await testApp().database(db).adapter(adapter).env({ MAIL_POLL_INTERVAL_MS: '20' }).boot();
      try {
        const http = request(t.app.getHttpServer());
        const issued = await http.post('/auth/otp/challenges').send({ email: 'schema@example.com' });
        expect(issued.status).toBe(503);
        expect(issued.body).toEqual({ error: 'otp_unavailable', message: expect.any(String) });
        expect(Number(issued.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        const verify = await http.post('/auth/otp/challenges/00000000-0000-4000-8000-000000000000/verify').send({ code: '123456' });
        expect(verify.status).toBe(503);

        const health = await http.get('/health');
        expect(health.status).toBe(503);
        expect(health.body.error.database).toEqual({ status: 'schema_out_of_date' });
        expect(health.body.details.database).toEqual({ status: 'schema_out_of_date' });

        // 25 poll intervals of a dispatcher that ran would log "claiming mail failed" many times.
        await new Promise((r) => setTimeout(r, 500));
        const schemaLines = errors.filter((e) => /schema out of date/.test(e));
        expect(schemaLines).toHaveLength(1);
        expect(schemaLines[0]).toMatch(/pending migration\(s\) CreateOtpTables1764086400000, .*AuditBatchIds1764097300000; run "npm run migration:run"/);
        expect(errors.filter((e) => /claiming mail failed|outbox/.test(e))).toEqual([]);
      } finally {
        await t.close();
      }
    } finally {
      spy.mockRestore();
    }
  });

  it('development: the operator audit routes answer 503 otp_unavailable, not 500, while migrations are pending', async () => {
    const token = `schema-${Math.random().toString(36).slice(2)}`;
    const spy = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const t = await testApp().database(db).adapter(adapter).env({ OTP_ADMIN_TOKEN: token }).boot();
      try {
        const http = request(t.app.getHttpServer());
        const verify = await http.get('/admin/otp/audit/verify').set('Authorization', `Bearer ${token}`);
        expect(verify.status).toBe(503);
        expect(verify.body).toEqual({ error: 'otp_unavailable', message: expect.any(String) });
        const query = await http.post('/admin/otp/audit/query').set('Authorization', `Bearer ${token}`).send({});
        expect(query.status).toBe(503);
        expect(query.body).toEqual({ error: 'otp_unavailable', message: expect.any(String) });
      } finally {
        await t.close();
      }
    } finally {
      spy.mockRestore();
    }
  });

  it('production: refuses to start, naming the pending migrations and npm run migration:run', async () => {
    await expect(testApp().database(db).adapter(adapter).env({ NODE_ENV: 'production', TLS_TERMINATED_BY_PROXY: 'true' }).boot())
      .rejects.toThrow(/database schema out of date: \d+ pending migration\(s\) CreateOtpTables1764086400000, .*run "npm run migration:run"/);
  });

  it('a database with every migration but the module\'s newest one is out of date too', async () => {
    await db.dataSource.runMigrations({ transaction: 'each' });
    // The newest of the module's; the example app's migrations after it in the shared table go first.
    const newest = OTP_MIGRATIONS.map((M) => M.name).sort((a, b) => Number(a.slice(-13)) - Number(b.slice(-13))).pop();
    const applied = async () => (await db.dataSource.query(`SELECT 1 FROM migrations WHERE name = $1`, [newest])).length > 0;
    while (await applied()) await db.dataSource.undoLastMigration({ transaction: 'each' });
    await expect(testApp().database(db).adapter(adapter).env({ NODE_ENV: 'production', TLS_TERMINATED_BY_PROXY: 'true' }).boot())
      .rejects.toThrow(/1 pending migration\(s\) \w+\d{13};/);
  });
});
