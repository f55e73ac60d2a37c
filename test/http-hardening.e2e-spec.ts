import { createServer } from 'node:http';
import { request as httpsRequest } from 'node:https';
import helmet from 'helmet';
import { AddressInfo } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import request from 'supertest';
import { httpSettingsFromEnv, parseTrustProxy } from '../src/app/http/http-settings';
import { HELMET_OPTIONS, securityHeaders } from '../src/app/http/security-headers';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { HTTP_ADAPTERS } from './support/test-app';
import { generateTestCertificate, TestCertificate } from './support/test-services';
import { testApp } from './support/test-app.builder';

/** A TLS handshake with exactly this protocol version; resolves with the version agreed or the error. */
function handshake(port: number, ca: Buffer, version: 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'): Promise<string> {
  return new Promise((resolve) => {
    // SECLEVEL=0 lets this client offer TLS 1.1 at all, so a failure is the server's refusal.
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0' });
    socket.once('secureConnect', () => {
      resolve(socket.getProtocol() ?? 'unknown');
      socket.end();
    });
    socket.once('error', (err: Error) => resolve(`error: ${err.message}`));
  });
}

function httpsPost(port: number, ca: Buffer, path: string, body: unknown): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = httpsRequest({ host: '127.0.0.1', port, path, method: 'POST', ca, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe('HTTP hardening', () => {
  let db: TestDatabase;
  let cert: TestCertificate;

  beforeAll(async () => {
    db = await createTestDatabase();
    cert = generateTestCertificate();
  });
  afterAll(async () => {
    cert?.remove();
    await db?.drop();
  });

  describe.each(HTTP_ADAPTERS)('on %s', (adapter) => {
    it('serves HTTPS with the configured certificate, with HSTS', async () => {
      const t = await testApp().database(db).adapter(adapter).env({ TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: cert.keyFile }).listen().boot();
      try {
        const { port } = t.app.getHttpServer().address() as AddressInfo;
        const res = await httpsPost(port, cert.cert, '/auth/otp/challenges', { email: `tls.${Date.now()}@example.com` });
        expect(res.status).toBe(202);
        expect(JSON.parse(res.body).challengeId).toEqual(expect.any(String));
        expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
        expect(await handshake(port, cert.cert, 'TLSv1.2')).toBe('TLSv1.2');
        expect(await handshake(port, cert.cert, 'TLSv1.3')).toBe('TLSv1.3');
      } finally {
        await t.close();
      }
    });

    it('R1: a TLS 1.1 handshake fails', async () => {
      const t = await testApp().database(db).adapter(adapter).env({ TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: cert.keyFile }).listen().boot();
      try {
        const { port } = t.app.getHttpServer().address() as AddressInfo;
        expect(await handshake(port, cert.cert, 'TLSv1.1')).toMatch(/^error: /);
      } finally {
        await t.close();
      }
    });

    it('every header helmet sets (its own middleware on a plain server) is on success, refusal and 404 answers, with the same value', async () => {
      const plain = createServer((req, res) => helmet(HELMET_OPTIONS)(req, res, () => res.end()));
      await new Promise<void>((r) => plain.listen(0, '127.0.0.1', () => r()));
      const t = await testApp().database(db).adapter(adapter).boot();
      try {
        const reference = (await request(plain).get('/')).headers;
        const expected = Object.fromEntries(securityHeaders().map(([name]) => [name.toLowerCase(), reference[name.toLowerCase()]]));
        expect(Object.keys(expected).length).toBeGreaterThanOrEqual(10);
        expect(Object.values(expected)).not.toContain(undefined);
        const answers = [
          await request(t.app.getHttpServer()).post('/auth/otp/challenges').send({ email: `helmet.${Date.now()}@example.com` }).expect(202),
          await request(t.app.getHttpServer()).post('/auth/otp/challenges').set('content-type', 'application/json').send('{"email": nope').expect(400),
          await request(t.app.getHttpServer()).post('/auth/otp/challenges').set('content-type', 'text/plain').send('x').expect(415),
          await request(t.app.getHttpServer()).get('/no/such/route').expect(404),
        ];
        for (const res of answers) {
          expect(Object.fromEntries(Object.keys(expected).map((h) => [h, res.headers[h]]))).toEqual(expected);
          expect(res.headers['x-powered-by']).toBeUndefined();
        }
      } finally {
        await t.close();
        await new Promise((r) => plain.close(r));
      }
    });

    it('OpenAPI at /docs-json lists every route the app registers, with the errors and the 429s; Swagger UI at /docs', async () => {
      const t = await testApp().database(db).adapter(adapter).boot();
      try {
        const doc = (await request(t.app.getHttpServer()).get('/docs-json').expect(200)).body as {
          paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>>;
        };
        const docsRoute = /^\/docs(-json|-yaml)?(\/|$)/;
        const routes = t.routes().filter((r) => !docsRoute.test(r.path));
        expect(routes.length).toBeGreaterThanOrEqual(4);
        for (const r of routes) {
          const openApiPath = r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
          expect({ route: `${r.method} ${r.path}`, documented: Boolean(doc.paths[openApiPath]?.[r.method.toLowerCase()]) })
            .toEqual({ route: `${r.method} ${r.path}`, documented: true });
        }
        for (const path of ['/auth/otp/challenges', '/auth/otp/challenges/{id}/verify', '/auth/otp/challenges/{id}/resend']) {
          const op = doc.paths[path].post;
          expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['400', '413', '415', '429', '503']));
          expect(op.responses['429'].headers).toHaveProperty('Retry-After');
        }
        expect(Object.keys(doc.paths['/auth/otp/challenges/{id}/verify'].post.responses)).toContain('401');
        const ui = await request(t.app.getHttpServer()).get('/docs').redirects(1).expect(200);
        expect(ui.text).toContain('swagger');
      } finally {
        await t.close();
      }
    });

    it('in production Swagger UI and the OpenAPI document are 404 unless OPENAPI=true', async () => {
      const prod = { DATABASE_URL: db.url, HTTP_ADAPTER: adapter, NODE_ENV: 'production', TLS_TERMINATED_BY_PROXY: 'true' };
      const off = await testApp().env(prod).boot();
      try {
        for (const path of ['/docs', '/docs/', '/docs-json', '/docs-yaml']) {
          const res = await request(off.app.getHttpServer()).get(path).expect(404);
          expect(res.text).not.toMatch(/swagger|openapi/i);
        }
      } finally {
        await off.close();
      }
      const on = await testApp().env({ ...prod, OPENAPI: 'true' }).boot();
      try {
        expect((await request(on.app.getHttpServer()).get('/docs-json').expect(200)).body.paths).toHaveProperty(['/auth/otp/challenges']);
        expect((await request(on.app.getHttpServer()).get('/docs').redirects(1).expect(200)).text).toContain('swagger');
      } finally {
        await on.close();
      }
    });
  });

  it('R1 control: this client can complete a TLS 1.1 handshake with a server that allows it (so the refusal above is the app\'s)', async () => {
    const server = createTlsServer({ cert: cert.cert, key: cert.key, minVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      expect(await handshake((server.address() as AddressInfo).port, cert.cert, 'TLSv1.1')).toBe('TLSv1.1');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('in production, plain HTTP is refused unless TLS files or TLS_TERMINATED_BY_PROXY=true are given', () => {
    expect(() => httpSettingsFromEnv({ NODE_ENV: 'production' })).toThrow(/refusing to serve plain HTTP in production/);
    expect(httpSettingsFromEnv({ NODE_ENV: 'production', TLS_TERMINATED_BY_PROXY: 'true' }).tlsTerminatedByProxy).toBe(true);
    expect(httpSettingsFromEnv({ NODE_ENV: 'production', TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: cert.keyFile }).tls).toBeDefined();
    expect(() => httpSettingsFromEnv({ TLS_CERT_FILE: cert.certFile })).toThrow(/both/);
    expect(() => httpSettingsFromEnv({ HTTP_ADAPTER: 'koa' })).toThrow(/express or fastify/);
    expect(httpSettingsFromEnv({}).adapter).toBe('express');
  });

  it('OPENAPI is on in development, off in production unless OPENAPI=true, and takes only true or false', () => {
    const prod = { NODE_ENV: 'production', TLS_TERMINATED_BY_PROXY: 'true' };
    expect(httpSettingsFromEnv({}).openApi).toBe(true);
    expect(httpSettingsFromEnv({ OPENAPI: 'false' }).openApi).toBe(false);
    expect(httpSettingsFromEnv(prod).openApi).toBe(false);
    expect(httpSettingsFromEnv({ ...prod, OPENAPI: 'true' }).openApi).toBe(true);
    expect(() => httpSettingsFromEnv({ OPENAPI: 'yes' })).toThrow(/OPENAPI must be true or false/);
  });

  it('OPERATOR_PORT and OPERATOR_HOST: a port from 0 to 65535 on 127.0.0.1 unless a host is named', () => {
    expect(httpSettingsFromEnv({}).operator).toBeUndefined();
    expect(httpSettingsFromEnv({ OPERATOR_PORT: '9100' }).operator).toEqual({ port: 9100, host: '127.0.0.1' });
    expect(httpSettingsFromEnv({ OPERATOR_PORT: '9100', OPERATOR_HOST: '10.0.0.5' }).operator).toEqual({ port: 9100, host: '10.0.0.5' });
    expect(() => httpSettingsFromEnv({ OPERATOR_PORT: '70000' })).toThrow(/OPERATOR_PORT must be/);
    expect(() => httpSettingsFromEnv({ OPERATOR_PORT: 'metrics' })).toThrow(/OPERATOR_PORT must be/);
    expect(() => httpSettingsFromEnv({ OPERATOR_HOST: '127.0.0.1' })).toThrow(/OPERATOR_HOST needs OPERATOR_PORT/);
  });

  it('TRUST_PROXY takes Express syntax, defaults to no proxy, and refuses "true"', () => {
    expect(parseTrustProxy(undefined)).toBe(false);
    expect(parseTrustProxy('false')).toBe(false);
    expect(parseTrustProxy('2')).toBe(2);
    expect(parseTrustProxy('loopback, 10.0.0.0/8,fd00::/8 ,192.0.2.1')).toEqual(['loopback', '10.0.0.0/8', 'fd00::/8', '192.0.2.1']);
    expect(() => parseTrustProxy('true')).toThrow(/any client/);
    expect(() => parseTrustProxy('10.0.0.0/33')).toThrow();
    expect(() => parseTrustProxy('proxy.example.com')).toThrow();
  });

  it('TRUST_PROXY in production refuses more than 3 hops and ranges broader than /8 (IPv4) or /32 (IPv6), IPv4-mapped ones included', () => {
    const prod = (value: string) => () => parseTrustProxy(value, true);
    expect(parseTrustProxy('3', true)).toBe(3);
    expect(parseTrustProxy('10.0.0.0/8,2001:db8::/32,loopback,192.0.2.1,::ffff:10.0.0.0/104', true))
      .toEqual(['10.0.0.0/8', '2001:db8::/32', 'loopback', '192.0.2.1', '::ffff:10.0.0.0/104']);
    expect(prod('4')).toThrow(/TRUST_PROXY=4.*at most 3/);
    expect(prod('99')).toThrow(/at most 3/);
    expect(prod('0.0.0.0/1,128.0.0.0/1')).toThrow(/TRUST_PROXY entry "0.0.0.0\/1" is broader than \/8/);
    expect(prod('2000::/3')).toThrow(/broader than \/32/);
    expect(prod('::ffff:0.0.0.0/100')).toThrow(/broader than \/8/);
    // Outside production the same values start (a lab may chain proxies), but never the whole internet.
    expect(parseTrustProxy('99', false)).toBe(99);
    expect(parseTrustProxy('0.0.0.0/1', false)).toEqual(['0.0.0.0/1']);
  });

  it('TRUST_PROXY in production bounds IPv4-mapped ranges as IPv4 however the IPv6 address is spelled (long forms, a range holding ::ffff:0:0/96)', () => {
    const prod = (value: string) => () => parseTrustProxy(value, true);
    for (const value of ['0:0:0:0:0:ffff:0:0/96', '0000:0000:0000:0000:0000:ffff:0000:0000/96', '0:0:0:0:0:ffff:0.0.0.0/96', '::FFFF:0:0/96', '::/80', '::/32']) {
      expect(prod(value)).toThrow(new RegExp(`^TRUST_PROXY entry "${value.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}" trusts every address`));
      let message = '';
      try { prod(value)(); } catch (e) { message = (e as Error).message; }
      expect(message).not.toContain('\n');
    }
    expect(prod('0:0:0:0:0:ffff:0a00:0/100')).toThrow(/broader than \/8 \(IPv4\)/);
    expect(prod('0000:0000:0000:0000:0000:ffff:0.0.0.0/100')).toThrow(/broader than \/8 \(IPv4\)/);
    expect(parseTrustProxy('0:0:0:0:0:ffff:0a00:0/104', true)).toEqual(['0:0:0:0:0:ffff:0a00:0/104']);
    expect(parseTrustProxy('0:0:0:0:0:ffff:10.0.0.0/104,2001:db8::/32,2001:0db8:0:0:0:0:0:0/32', true))
      .toEqual(['0:0:0:0:0:ffff:10.0.0.0/104', '2001:db8::/32', '2001:0db8:0:0:0:0:0:0/32']);
  });

  it('TRUST_PROXY=0.0.0.0/0 (or ::/0) is refused with one clear line in every mode, not a crash of the proxy parser', () => {
    for (const production of [false, true]) {
      for (const value of ['0.0.0.0/0', '::/0', '::ffff:0.0.0.0/96,0.0.0.0/0']) {
        expect(() => parseTrustProxy(value, production)).toThrow(/TRUST_PROXY entry "[^"]+" trusts every address/);
      }
    }
    expect(() => httpSettingsFromEnv({ TRUST_PROXY: '0.0.0.0/0' })).toThrow(/trusts every address/);
  });
});
