import { Controller, Get, HttpCode, Logger } from '@nestjs/common';
import request from 'supertest';
import { OtpAuditService } from '../src/otp';
import type { TestDatabase } from './support/test-database';
import { HTTP_ADAPTERS, logSink, pollFor, RELAXED_RATE_LIMITS } from './support/test-app';
import { BootedTestApp, testApp } from './support/test-app.builder';

/** A handler that logs through Nest's `Logger` after awaiting, as any host code would. */
@Controller('rid-probe')
class LoggingProbeController {
  private readonly log = new Logger('RidProbe');

  @Get()
  @HttpCode(200)
  async probe(): Promise<{ ok: true }> {
    await new Promise((resolve) => setImmediate(resolve));
    this.log.log('probe handler ran');
    return { ok: true };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * R39: the request id is decided once per request, the same way on both adapters: a
 * well-formed incoming `X-Request-Id` (1-64 of `A-Za-z0-9._:-`) is kept, anything else is
 * replaced by a fresh UUID; that one id is echoed, logged and audited.
 */
describe.each(HTTP_ADAPTERS)('request ids on %s', (adapter) => {
  let db: TestDatabase;
  let t: BootedTestApp;
  let audit: OtpAuditService;
  const chunks: string[] = [];
  let n = 0;
  const email = () => `rid${++n}.${Date.now()}@example.com`;

  beforeAll(async () => {
    const sink = logSink(chunks);
    t = await testApp().withDatabase().adapter(adapter).env({ LOG_LEVEL: 'info', ...RELAXED_RATE_LIMITS }).controllers(LoggingProbeController).logTo(sink).boot();
    db = t.db;
    audit = t.app.get(OtpAuditService);
  });
  afterAll(async () => t?.close());

  /** Request-completed log lines (pino-http), by the request id they carry. */
  const loggedRequest = (requestId: string) =>
    pollFor(() => chunks.join('').trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.req && l.res && l.requestId === requestId));

  /** Issues a challenge (with `given` as X-Request-Id unless undefined) and returns the echoed id with the audit rows of the request. */
  async function issue(given?: string) {
    let req = request(t.app.getHttpServer()).post('/auth/otp/challenges');
    if (given !== undefined) req = req.set('X-Request-Id', given);
    const res = await req.send({ email: email() }).expect(202);
    const echoed = res.headers['x-request-id'] as string;
    const issued = await pollFor(async () => (await audit.list({ challengeId: res.body.challengeId })).find((r) => r.event === 'challenge.issued'));
    const http = await pollFor(async () => (await audit.list({ event: 'otp.issue', limit: 1000 })).find((r) => r.requestId === echoed));
    return { echoed, issued, http, logged: await loggedRequest(echoed) };
  }

  it('R39: a well-formed incoming X-Request-Id is echoed, logged and audited unchanged', async () => {
    for (const given of ['trace-Abc_1.2:3', 'x'.repeat(64)]) {
      const { echoed, issued, http, logged } = await issue(given);
      expect(echoed).toBe(given);
      expect(issued.requestId).toBe(given);
      expect(http.requestId).toBe(given);
      expect(logged.requestId).toBe(given);
    }
  });

  it('R39: an ill-formed X-Request-Id (too long, outside the charset) is replaced by a fresh UUID, the same one echoed, logged and audited', async () => {
    for (const given of ['x'.repeat(65), 'has space', '<script>', 'a,b', '']) {
      const { echoed, issued, http, logged } = await issue(given);
      expect(echoed).toMatch(UUID);
      expect(issued.requestId).toBe(echoed);
      expect(http.requestId).toBe(echoed);
      expect(logged.requestId).toBe(echoed);
    }
  });

  it('R39: without X-Request-Id every request gets its own fresh UUID, echoed, logged and audited', async () => {
    const a = await issue();
    const b = await issue();
    for (const r of [a, b]) {
      expect(r.echoed).toMatch(UUID);
      expect(r.issued.requestId).toBe(r.echoed);
      expect(r.logged.requestId).toBe(r.echoed);
    }
    expect(a.echoed).not.toBe(b.echoed);
  });

  it('R39: a line logged by a handler through Nest\'s Logger carries the request id, as the access line does', async () => {
    for (const given of ['rid-probe-1', undefined]) {
      let req = request(t.app.getHttpServer()).get('/rid-probe');
      if (given !== undefined) req = req.set('X-Request-Id', given);
      const echoed = (await req.expect(200)).headers['x-request-id'] as string;
      if (given !== undefined) expect(echoed).toBe(given);
      const line = await pollFor(() => chunks.join('').trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.msg === 'probe handler ran' && l.requestId === echoed));
      expect(line.context).toBe('RidProbe');
      expect((await loggedRequest(echoed)).res.statusCode).toBe(200);
    }
  });

  // Not asserted: Express never logs a body-parser refusal (its parser runs before pino-http); Fastify does.
  it('R39: refusals echo the request id (400 bad body, 404 unknown route), and the 404 is logged with it', async () => {
    const bad = await request(t.app.getHttpServer()).post('/auth/otp/challenges').set('X-Request-Id', 'rid-bad-body').set('content-type', 'application/json').send('{"email":').expect(400);
    expect(bad.headers['x-request-id']).toBe('rid-bad-body');
    const missing = await request(t.app.getHttpServer()).get('/no/such/route').set('X-Request-Id', 'rid-missing').expect(404);
    expect(missing.headers['x-request-id']).toBe('rid-missing');
    expect((await loggedRequest('rid-missing')).res.statusCode).toBe(404);
  });
});
