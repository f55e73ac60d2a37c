import request from 'supertest';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { HTTP_ADAPTERS, TestApp } from './support/test-app';
import { testApp } from './support/test-app.builder';

type Headers = Record<string, string>;

describe.each(HTTP_ADAPTERS)('the development mailbox behind a proxy (%s)', (adapter) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  const statusOf = async (t: TestApp, headers: Headers) => {
    let req = request(t.app.getHttpServer()).get('/dev/mailbox');
    for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
    return (await req).status;
  };

  it('without TRUST_PROXY, refuses any request that carries Forwarded, X-Forwarded-For or X-Real-IP (a same-host proxy would otherwise hand codes to everyone)', async () => {
    const t = await testApp().database(db).adapter(adapter).boot();
    try {
      expect(await statusOf(t, {})).toBe(200);
      for (const headers of <Headers[]>[
        { 'X-Forwarded-For': '203.0.113.9' },
        { 'X-Forwarded-For': '127.0.0.1' },
        { 'X-Real-IP': '203.0.113.9' },
        { 'X-Real-IP': '127.0.0.1' },
        { Forwarded: 'for=203.0.113.9' },
        { Forwarded: 'for=127.0.0.1' },
      ]) {
        expect([headers, await statusOf(t, headers)]).toEqual([headers, 404]);
      }
    } finally {
      await t.close();
    }
  });

  it('with TRUST_PROXY=loopback, answers only when the proxy resolves the client to loopback and no forwarding header names another address', async () => {
    const t = await testApp().database(db).adapter(adapter).env({ TRUST_PROXY: 'loopback' }).boot();
    try {
      expect(await statusOf(t, {})).toBe(200);
      expect(await statusOf(t, { 'X-Forwarded-For': '127.0.0.1' })).toBe(200);
      for (const headers of <Headers[]>[
        { 'X-Forwarded-For': '203.0.113.9' },
        { 'X-Forwarded-For': '127.0.0.1, 203.0.113.9' },
        // The proxy sets only X-Real-IP or Forwarded: the client address it names is not loopback.
        { 'X-Real-IP': '203.0.113.9' },
        { Forwarded: 'for=203.0.113.9;proto=https' },
        { 'X-Forwarded-For': '127.0.0.1', 'X-Real-IP': '203.0.113.9' },
        { 'X-Forwarded-For': '127.0.0.1', Forwarded: 'for=127.0.0.1, for="[2001:db8::1]:4711"' },
      ]) {
        expect([headers, await statusOf(t, headers)]).toEqual([headers, 404]);
      }
    } finally {
      await t.close();
    }
  });
});
