import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { TestApp } from './test-app';

/** An operator token strong enough for production's check. */
export const strongToken = (): string => randomBytes(32).toString('base64url');

/**
 * Signs in to the operator console: returns the session cookie (name=value), the raw `Set-Cookie`
 * and the CSRF token of the console page (fetched with `planted` cookies in front, if given).
 */
export async function consoleSignIn(t: TestApp, token: string, planted = ''): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const res = await request(t.app.getHttpServer()).post('/admin/session').send({ token }).expect(200);
  const setCookie = ([] as string[]).concat(res.headers['set-cookie'] ?? [])[0];
  const cookie = setCookie.split(';')[0];
  const page = await request(t.app.getHttpServer()).get('/admin').set('Cookie', planted ? `${planted}; ${cookie}` : cookie).expect(200);
  const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(page.text)?.[1];
  if (!csrf) throw new Error('the console page carries no CSRF token');
  return { cookie, csrf, setCookie };
}
