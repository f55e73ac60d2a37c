import request from 'supertest';
import { makeTestCert, startSmtpServer, TestCert, TestSmtpServer } from './support/smtp-test-server';
import { pollFor, RELAXED_RATE_LIMITS, TestApp } from './support/test-app';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { freePort, startTestRedisServer, TEST_REDIS_URL, TestRedisServer, uniqueKeyPrefix } from './support/test-services';
import { testApp } from './support/test-app.builder';
import { TestResources } from './support/test-resources';

/** `/health` checks the module's own dependencies: the SMTP relay and the Redis of the rate limits. */
describe('/health: smtp and redis checks', () => {
  let db: TestDatabase;
  let cert: TestCert;
  const open = new TestResources();

  beforeAll(async () => {
    db = await createTestDatabase();
    cert = makeTestCert();
  });
  afterEach(() => open.close()); // apps first, then the servers they talk to
  afterAll(async () => {
    await db?.drop();
    cert?.remove();
  });

  async function app(env: NodeJS.ProcessEnv): Promise<TestApp> {
    return testApp()
      .database(db)
      .env({ SMTP_CA_FILE: cert.certFile, MAIL_FROM: '"Test" <otp@example.test>', APP_URL: 'https://app.example.test', RATE_LIMIT_KEY_PREFIX: uniqueKeyPrefix(), ...RELAXED_RATE_LIMITS, ...env })
      .closedBy(open)
      .boot();
  }
  async function smtpServer(options: Parameters<typeof startSmtpServer>[0]): Promise<TestSmtpServer> {
    return open.server(await startSmtpServer(options));
  }
  const health = (t: TestApp) => request(t.app.getHttpServer()).get('/health');
  const withCredentials = (url: string) => url.replace('://', '://relay-user:relay-s3cret@');

  it('is 200 with smtp up when the relay completes the STARTTLS handshake, and the check sends nothing', async () => {
    const smtp = await smtpServer({ key: cert.key, cert: cert.cert });
    const t = await app({ SMTP_URL: smtp.url('smtp') });
    const res = await health(t).expect(200);
    expect(res.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, smtp: { status: 'up' } } });
    expect(smtp.connections).toBeGreaterThan(0);
    expect(smtp.mailFromCount).toBe(0);
    expect(smtp.dataCount).toBe(0);
  });

  it('opens one SMTP session for a burst of /health probes: the outcome is reused (monitoring.smtpCheckCacheSeconds, default 10)', async () => {
    const smtp = await smtpServer({ key: cert.key, cert: cert.cert });
    const t = await app({ SMTP_URL: smtp.url('smtp') });
    const burst = await Promise.all(Array.from({ length: 10 }, () => health(t)));
    for (let i = 0; i < 5; i++) burst.push(await health(t));
    expect(burst.map((r) => r.status)).toEqual(Array(15).fill(200));
    expect(smtp.connections).toBe(1);
  });

  it('is 503 naming smtp when the relay port is closed, without its address or credentials', async () => {
    const port = await freePort();
    const t = await app({ SMTP_URL: withCredentials(`smtp://127.0.0.1:${port}`) });
    const res = await health(t).expect(503);
    expect(res.body).toMatchObject({ status: 'error', error: { smtp: { status: 'down' } }, info: { database: { status: 'up' } } });
    const text = JSON.stringify(res.body);
    for (const leak of ['127.0.0.1', String(port), 'relay-user', 'relay-s3cret', 'ECONNREFUSED']) expect(text).not.toContain(leak);
  });

  it('is 503 naming smtp when the relay offers no STARTTLS: the check keeps the TLS policy of sending', async () => {
    const smtp = await smtpServer({ key: cert.key, cert: cert.cert, disabledCommands: ['STARTTLS'] });
    const t = await app({ SMTP_URL: smtp.url('smtp') });
    const res = await health(t).expect(503);
    expect(res.body.error).toEqual({ smtp: { status: 'down' } });
    expect(smtp.mailFromCount).toBe(0);
  });

  it('is 503 naming smtp when the relay shows a certificate nobody trusts', async () => {
    const stranger = makeTestCert('stranger');
    try {
      const smtp = await smtpServer({ key: stranger.key, cert: stranger.cert });
      const t = await app({ SMTP_URL: smtp.url('smtp') });
      const res = await health(t).expect(503);
      expect(res.body.error).toEqual({ smtp: { status: 'down' } });
      expect(smtp.mailFromCount).toBe(0);
    } finally {
      stranger.remove();
    }
  });

  it('registers no smtp check for the development mailbox, and no redis check for in-memory counters', async () => {
    const t = await app({ SMTP_URL: '', REDIS_URL: '' });
    const res = await health(t).expect(200);
    expect(Object.keys(res.body.info).sort()).toEqual(['database']);
  });

  it('is 200 with redis up on the shared Redis', async () => {
    const t = await app({ REDIS_URL: TEST_REDIS_URL });
    const res = await health(t).expect(200);
    expect(res.body.info).toMatchObject({ database: { status: 'up' }, redis: { status: 'up' } });
  });

  describe('with a Redis of its own', () => {
    let redis: TestRedisServer;
    beforeAll(async () => {
      redis = await startTestRedisServer();
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it('is 503 naming redis while that Redis is stopped, and 200 again once it is back', async () => {
      const t = await app({ REDIS_URL: redis.url });
      await health(t).expect(200);
      await redis.stop();
      const down = await health(t).expect(503);
      expect(down.body).toMatchObject({ status: 'error', error: { redis: { status: 'down' } }, info: { database: { status: 'up' } } });
      expect(JSON.stringify(down.body)).not.toContain(String(redis.port));
      await redis.start();
      await pollFor(async () => ((await health(t)).status === 200 ? true : undefined), 10_000);
    });
  });
});
