import { connect as netConnect } from 'node:net';
import { createServer as createTlsServer, Server as TlsServer } from 'node:tls';
import Redis from 'ioredis';
import request from 'supertest';
import { OtpService, OtpUnavailableError } from '../src/otp';
import { redisClientOptions } from '../src/otp/rate-limit/redis-throttler-storage';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { TestApp, testKeyLine } from './support/test-app';
import {
  freePort, generateTestCertificate, startTestRedisServer, TEST_REDIS_URL, TestCertificate, uniqueKeyPrefix,
} from './support/test-services';
import { testApp } from './support/test-app.builder';
import { TestResources } from './support/test-resources';

/** Counters in Redis: shared by instances, fail closed when Redis is gone, TLS checked. */
describe('rate limits in Redis', () => {
  let db: TestDatabase;
  const open = new TestResources();
  const keys = { OTP_KEYS: testKeyLine('shared'), OTP_ENCRYPTION_KEYS: testKeyLine('enc') };

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(() => open.close());
  afterAll(async () => db?.drop());

  async function boot(env: NodeJS.ProcessEnv): Promise<TestApp> {
    return testApp().database(db).env({ ...keys, RATE_LIMIT_RECIPIENT: '1000/60', ...env }).closedBy(open).boot();
  }

  let n = 0;
  const email = () => `redis${++n}.${process.pid}.${Date.now()}@example.com`;
  const issue = (t: TestApp, address = email()) => request(t.app.getHttpServer()).post('/auth/otp/challenges').send({ email: address });

  it('R12: two instances (Express and Fastify) sharing Redis share the limits: the N+1th request fails on the other instance', async () => {
    const shared = { REDIS_URL: TEST_REDIS_URL, RATE_LIMIT_KEY_PREFIX: uniqueKeyPrefix(), RATE_LIMIT_IP_SEND: '3/60' };
    const a = await boot({ ...shared, HTTP_ADAPTER: 'express' });
    const b = await boot({ ...shared, HTTP_ADAPTER: 'fastify' });
    for (let i = 0; i < 3; i++) await issue(a).expect(202);
    const res = await issue(b);
    expect(res.status).toBe(429);
    expect(res.body.error).toBe('otp_throttled');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(50);
  });

  it('R12: the per-recipient limit is shared too, and Redis holds no address', async () => {
    const prefix = uniqueKeyPrefix();
    const shared = { REDIS_URL: TEST_REDIS_URL, RATE_LIMIT_KEY_PREFIX: prefix, RATE_LIMIT_RECIPIENT: '1/60' };
    const a = await boot({ ...shared, HTTP_ADAPTER: 'fastify' });
    const b = await boot({ ...shared, HTTP_ADAPTER: 'express' });
    const address = email();
    await issue(a, address).expect(202);
    expect((await issue(b, address.toUpperCase())).status).toBe(429);
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const stored = await redis.keys(`*${prefix}*`);
      expect(stored.length).toBeGreaterThan(0);
      expect(stored.join('\n').toLowerCase()).not.toContain(address.toLowerCase().split('@')[0]);
      expect(stored.join('\n')).not.toContain('127.0.0.1');
    } finally {
      redis.disconnect();
    }
  });

  it('fails closed: with Redis stopped every OTP route answers 503 at once, sends nothing, and recovers when Redis is back', async () => {
    const server = await startTestRedisServer();
    try {
      const t = await boot({ REDIS_URL: server.url, RATE_LIMIT_KEY_PREFIX: uniqueKeyPrefix() });
      const live = await issue(t).expect(202);
      await t.codeFor(live.body.challengeId); // its mail is out (delivery is asynchronous) before the count below is taken
      await server.stop();
      const mails = t.mailbox.list().length;
      const [before] = await db.dataSource.query('SELECT count(*)::int AS n FROM otp_challenges');
      const started = Date.now();
      const refused = await issue(t);
      expect(Date.now() - started).toBeLessThan(5000); // fails fast: no waiting for a reconnect (generous: the machine is shared)
      expect(refused.status).toBe(503);
      expect(refused.body).toEqual({ error: 'otp_unavailable', message: expect.any(String) });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      await request(t.app.getHttpServer()).post(`/auth/otp/challenges/${live.body.challengeId}/verify`).send({ code: '000000' }).expect(503);
      await request(t.app.getHttpServer()).post(`/auth/otp/challenges/${live.body.challengeId}/resend`).expect(503);
      const [after] = await db.dataSource.query('SELECT count(*)::int AS n FROM otp_challenges');
      expect(after.n).toBe(before.n);
      expect(t.mailbox.list().length).toBe(mails);
      await server.start();
      const deadline = Date.now() + 20_000;
      let status = 0;
      while (Date.now() < deadline && (status = (await issue(t)).status) === 503) await new Promise((r) => setTimeout(r, 50));
      expect(status).toBe(202);
    } finally {
      await server.stop();
    }
  });

  it('fails closed where the code is issued: with Redis stopped OtpService.issue (a host caller, no guard) throws OtpUnavailableError and writes nothing', async () => {
    const server = await startTestRedisServer();
    try {
      const t = await boot({ REDIS_URL: server.url, RATE_LIMIT_KEY_PREFIX: uniqueKeyPrefix() });
      const otp = t.app.get(OtpService);
      await otp.issue({ email: email(), ip: '203.0.113.9' });
      await server.stop();
      const [before] = await db.dataSource.query('SELECT count(*)::int AS n FROM otp_challenges');
      await expect(otp.issue({ email: email(), ip: '203.0.113.9' })).rejects.toBeInstanceOf(OtpUnavailableError);
      const [after] = await db.dataSource.query('SELECT count(*)::int AS n FROM otp_challenges');
      expect(after.n).toBe(before.n);
    } finally {
      await server.stop();
    }
  });

  it('fails closed when Redis is unreachable from the start (closed port): 503, and start-up does not hang', async () => {
    const started = Date.now();
    const t = await boot({ REDIS_URL: `redis://127.0.0.1:${await freePort()}`, HTTP_ADAPTER: 'fastify' });
    expect(Date.now() - started).toBeLessThan(8000);
    const res = await issue(t);
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('otp_unavailable');
  });

  describe('R2: rediss:// checks the server certificate', () => {
    let cert: TestCertificate;
    let proxy: TlsServer;
    let port: number;

    beforeAll(async () => {
      cert = generateTestCertificate();
      const upstream = new URL(TEST_REDIS_URL);
      // TLS in front of the local Redis, with a certificate no system CA trusts.
      proxy = createTlsServer({ cert: cert.cert, key: cert.key, minVersion: 'TLSv1.2' }, (socket) => {
        const up = netConnect(Number(upstream.port || 6379), upstream.hostname);
        socket.pipe(up).pipe(socket);
        socket.on('error', () => up.destroy());
        up.on('error', () => socket.destroy());
      });
      proxy.on('tlsClientError', () => undefined);
      port = await freePort();
      await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      await new Promise((resolve) => proxy?.close(resolve));
      cert?.remove();
    });

    it('refuses an untrusted certificate (503) and works with REDIS_CA_FILE naming its CA', async () => {
      const url = `rediss://127.0.0.1:${port}`;
      const untrusted = await boot({ REDIS_URL: url, RATE_LIMIT_KEY_PREFIX: uniqueKeyPrefix() });
      expect((await issue(untrusted)).status).toBe(503);
      const trusted = await boot({ REDIS_URL: url, REDIS_CA_FILE: cert.certFile, RATE_LIMIT_KEY_PREFIX: uniqueKeyPrefix() });
      await issue(trusted).expect(202);
    });

    it('the client options never disable certificate checks and require TLS 1.2', () => {
      const options = redisClientOptions({ url: 'rediss://redis.internal:6380', ca: 'PEM' });
      expect(options.tls).toEqual({ minVersion: 'TLSv1.2', servername: 'redis.internal', ca: 'PEM' });
      expect(JSON.stringify(options)).not.toContain('rejectUnauthorized');
      expect(redisClientOptions({ url: 'redis://127.0.0.1:6379' }).tls).toBeUndefined();
    });
  });
});
