import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppModule } from '../src/app/app.module';
import { OtpEventBus, OtpHealthChecks, OtpMailer } from '../src/otp';
import type { TestDatabase } from './support/test-database';
import { pollFor, RELAXED_RATE_LIMITS, testKeyLine } from './support/test-app';
import { BootedTestApp, testApp } from './support/test-app.builder';
import { DevMailboxMailer } from '../src/otp/mail/dev-mailbox.mailer';
import { OtpAlertEngine } from '../src/otp/monitoring/otp-alert.engine';

const ADMIN = `admin-${process.pid}-${Date.now()}`;

describe('monitoring: /metrics, /health and alerts (R17, R18)', () => {
  let db: TestDatabase;
  // Every app of this suite shares the database, so its keys (the index key's fingerprint is checked at start).
  const keys = { OTP_KEYS: testKeyLine(), OTP_ENCRYPTION_KEYS: testKeyLine('e') };
  let app: INestApplication;
  let t: BootedTestApp;
  let hook: Server;
  const received: { path?: string; body: Record<string, unknown> }[] = [];
  const logLines: string[] = [];

  beforeAll(async () => {
    hook = createServer((req: IncomingMessage, res) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        received.push({ path: req.url, body: JSON.parse(data) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts/secret-path`;
    const sink = new Writable({ write(chunk, _e, done) { logLines.push(...chunk.toString().trim().split('\n')); done(); } });
    t = await testApp()
      .withDatabase()
      .env({ ...keys, OTP_ALERT_WEBHOOK_URL: url, LOG_LEVEL: 'warn', OTP_ADMIN_TOKEN: ADMIN, ...RELAXED_RATE_LIMITS })
      .server({ close: () => new Promise<void>((r) => hook.close(() => r())) })
      .module((env) => Test.createTestingModule({ imports: [AppModule.forEnv(env, { logDestination: sink })] }).compile())
      .boot();
    db = t.db;
    app = t.app;
  });
  afterAll(async () => t?.close());

  const http = () => request(app.getHttpServer());

  it('R14: /metrics answers 401 without the operator token and 404 when none is configured (its counters would be an oracle)', async () => {
    await http().get('/metrics').expect(401);
    await http().get('/metrics').set('Authorization', 'Bearer wrong').expect(401);
    const bare = await testApp().database(db).env(keys).boot();
    try {
      await request(bare.app.getHttpServer()).get('/metrics').expect(404);
    } finally {
      await bare.close();
    }
  });
  const metric = (text: string, name: string) => {
    const m = new RegExp(`^${name.replace(/[{}"=]/g, (c) => '\\' + c)} ([0-9.e+-]+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };

  it('one IP asking codes for many addresses raises ip_many_recipients to the log sink and the webhook', async () => {
    for (let i = 0; i < 10; i++) await http().post('/auth/otp/challenges').send({ email: `spray${i}.${Date.now()}@example.com` }).expect(202);
    const hit = await pollFor(() => received.find((r) => r.body.alert === 'ip_many_recipients'));
    expect(hit.path).toBe('/alerts/secret-path');
    expect(hit.body).toMatchObject({ count: 10, threshold: 10, ip: expect.stringMatching(/127\.0\.0\.1$/) });
    expect(JSON.stringify(hit.body)).not.toMatch(/@example\.com/);
    const line = await pollFor(() => logLines.map((l) => JSON.parse(l)).find((l) => l.alert === 'ip_many_recipients'));
    expect(line.level).toBe('warn');
    expect(logLines.join('\n')).not.toContain('secret-path');
  });

  it('R18: ten failed operator authentications raise operator_auth_failures to the webhook, without the tokens tried', async () => {
    for (let i = 0; i < 10; i++) await http().get('/metrics').set('Authorization', `Bearer guess-${i}-${process.pid}`).expect(401);
    const hit = await pollFor(() => received.find((r) => r.body.alert === 'operator_auth_failures'));
    expect(hit.body).toMatchObject({ severity: 'critical', threshold: 10, ip: expect.stringMatching(/127\.0\.0\.1$/) });
    expect(JSON.stringify(hit.body)).not.toContain('guess-');
  });

  it('/metrics exposes issued challenges, verifications by outcome, throttling and mail outcomes', async () => {
    const mailbox = app.get(OtpMailer) as DevMailboxMailer;
    const c = await http().post('/auth/otp/challenges').send({ email: `metrics.${Date.now()}@example.com` }).expect(202);
    const code = await pollFor(() => mailbox.list().find((m) => m.challengeId === c.body.challengeId)?.code);
    await http().post(`/auth/otp/challenges/${c.body.challengeId}/verify`).send({ code: code === '000000' ? '000001' : '000000' }).expect(401);
    await http().post(`/auth/otp/challenges/${c.body.challengeId}/verify`).send({ code }).expect(200);
    await http().post(`/auth/otp/challenges/${c.body.challengeId}/resend`).expect(401);
    // Mail outcomes: the real dispatcher delivered these codes; synthetic events on top are counted once each.
    const before = (await http().get('/metrics').set('Authorization', `Bearer ${ADMIN}`).expect(200)).text;
    const bus = app.get(OtpEventBus);
    bus.emit({ name: 'request.throttled', outcome: 'failure', detail: { throttler: 'per-ip' } });
    bus.emit({ name: 'mail.delivered', outcome: 'success', detail: { latencyMs: 420 } });
    bus.emit({ name: 'mail.retried', outcome: 'failure' });

    const res = await http().get('/metrics').set('Authorization', `Bearer ${ADMIN}`).expect(200);
    const delta = (name: string) => (metric(res.text, name) ?? 0) - (metric(before, name) ?? 0);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(metric(res.text, 'otp_challenges_issued_total{purpose="login"}')).toBe(11);
    expect(metric(res.text, 'otp_verifications_total{outcome="success",reason="ok"}')).toBe(1);
    expect(metric(res.text, 'otp_verifications_total{outcome="failure",reason="wrong_code"}')).toBe(1);
    expect(metric(before, 'otp_mail_deliveries_total{outcome="delivered"}')).toBeGreaterThanOrEqual(1);
    expect(metric(before, 'otp_mail_delivery_seconds_count')).toBe(metric(before, 'otp_mail_deliveries_total{outcome="delivered"}'));
    expect(delta('otp_throttled_total{throttler="per-ip"}')).toBe(1);
    expect(delta('otp_mail_deliveries_total{outcome="delivered"}')).toBe(1);
    expect(delta('otp_mail_deliveries_total{outcome="retried"}')).toBe(1);
    expect(delta('otp_mail_delivery_seconds_count')).toBe(1);
    expect(delta('otp_mail_delivery_seconds_sum')).toBeCloseTo(0.42);
    expect(delta('otp_events_total{event="request.throttled",outcome="failure"}')).toBe(1);
    expect(metric(res.text, 'otp_alerts_total{rule="ip_many_recipients"}')).toBe(1);
  });

  it('outbox backlog and age come from the outbox table; an old row raises outbox_backlog', async () => {
    // Three waiting mails (one 20 minutes old) and two finished ones, on a real challenge; not due, so the dispatcher leaves them.
    const [{ id }] = await db.dataSource.query(`SELECT id FROM otp_challenges LIMIT 1`);
    await db.dataSource.query(
      `INSERT INTO otp_mail_outbox (id, challenge_id, kind, purpose, recipient_index, status, created_at, next_attempt_at, deadline_at, finished_at)
       SELECT gen_random_uuid(), $1, 'code', 'login', 'probe', s, c, now() + interval '1 day', now() + interval '1 day', CASE WHEN s = 'pending' THEN NULL ELSE now() END
       FROM (VALUES ('pending', now() - interval '20 minutes'), ('pending', now()), ('pending', now()), ('delivered', now()), ('abandoned', now() - interval '1 hour')) AS v(s, c)`,
      [id],
    );
    const res = await http().get('/metrics').set('Authorization', `Bearer ${ADMIN}`).expect(200);
    expect(metric(res.text, 'otp_outbox_backlog')).toBe(3);
    expect(metric(res.text, 'otp_outbox_oldest_age_seconds')).toBeGreaterThanOrEqual(1199);
    await app.get(OtpAlertEngine).checkOutbox();
    const hit = await pollFor(() => received.find((r) => r.body.alert === 'outbox_backlog'));
    expect(hit.body).toMatchObject({ severity: 'critical' });
  });

  it('/health is 200 with the database up, 503 naming a failing registered check without details', async () => {
    const ok = await http().get('/health').expect(200);
    expect(ok.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
    app.get(OtpHealthChecks).register('smtp', () => Promise.reject(new Error('connect ECONNREFUSED 10.9.8.7:587')));
    const bad = await http().get('/health').expect(503);
    expect(bad.body).toMatchObject({ status: 'error', error: { smtp: { status: 'down' } }, info: { database: { status: 'up' } } });
    expect(JSON.stringify(bad.body)).not.toContain('10.9.8.7');
    expect(bad.headers['cache-control']).toBe('no-store');
  });

  it('a second app instance in the same process has its own metrics registry', async () => {
    const other = await testApp().database(db).env({ ...keys, OTP_ADMIN_TOKEN: ADMIN }).boot();
    try {
      const res = await request(other.app.getHttpServer()).get('/metrics').set('Authorization', `Bearer ${ADMIN}`).expect(200);
      expect(metric(res.text, 'otp_alerts_total{rule="ip_many_recipients"}')).toBeUndefined();
      expect(res.text).toContain('otp_challenges_issued_total');
    } finally {
      await other.close();
    }
  });
});

describe('operatorRoutes: false', () => {
  it('mounts no /metrics, /health or admin routes, and the services stay available', async () => {
    const { TypeOrmModule } = await import('@nestjs/typeorm');
    const { OtpModule, OtpMetrics } = await import('../src/otp');
    const t = await testApp().withDatabase().module((env) => Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: env.DATABASE_URL, autoLoadEntities: true }),
        OtpModule.forRoot({ keys: testKeyLine(), encryptionKeys: testKeyLine('e'), operatorRoutes: false }),
      ],
    }).setLogger(false as never).compile()).boot();
    const app = t.app;
    try {
      await request(app.getHttpServer()).get('/metrics').expect(404);
      await request(app.getHttpServer()).get('/health').expect(404);
      await request(app.getHttpServer()).post('/admin/otp/audit/query').send({}).expect(404);
      expect((await app.get(OtpMetrics).render()).body).toContain('otp_challenges_issued_total');
    } finally {
      await t.close();
    }
  });
});
