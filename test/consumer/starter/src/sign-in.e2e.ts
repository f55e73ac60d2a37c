/**
 * The host's own e2e check, as a host would write it: the app with the test mailer, a code issued
 * and verified over HTTP, and the guarded route accepting the proof once. Prints one JSON line.
 */
import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { latestOtpCode, withOtpTestMailer } from 'nestjs-email-otp/testing';
import { AppModule } from './app.module.js';

async function main(): Promise<void> {
  const moduleRef = await withOtpTestMailer(Test.createTestingModule({ imports: [AppModule] })).compile();
  const app = moduleRef.createNestApplication({ logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const base = await app.getUrl();
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(base.replace('[::1]', '127.0.0.1') + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
  };
  try {
    const email = 'ada@example.com';
    const issued = await post('/auth/otp/challenges', { email, purpose: 'login' });
    const challengeId = String(issued.body?.challengeId);
    const code = await latestOtpCode(app, email, { challengeId });
    const verified = await post(`/auth/otp/challenges/${challengeId}/verify`, { code });
    const token = String(verified.body?.token);
    const first = await post('/reports', {}, { 'x-otp-token': token });
    const second = await post('/reports', {}, { 'x-otp-token': token });
    console.log(JSON.stringify({ issued: issued.status, verified: verified.status, first: first.status, firstBody: first.body, second: second.status, secondBody: second.body }));
  } finally {
    await app.close();
  }
}

main().then(() => process.exit(0), (err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
