import { Logger } from '@nestjs/common';
import { otpOptionsFromEnv } from '../src/app/app.config';
import { resolveOtpOptions } from '../src/otp/otp-options.resolver';
import { OtpConfigError, OtpInvalidError, OtpService } from '../src/otp';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { bootTestApp, testKeyLine } from './support/test-app';

const silent = { warn: () => undefined } as unknown as Logger;

describe('keys and production mode', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  it('key rotation: a code issued under key A verifies after key B is added in front; new codes use B', async () => {
    const a = testKeyLine('keyA');
    const b = testKeyLine('keyB');
    const enc = testKeyLine('enc1');
    const before = await bootTestApp({ DATABASE_URL: db.url, OTP_KEYS: a, OTP_ENCRYPTION_KEYS: enc });
    const old = await before.app.get(OtpService).issue({ email: 'rotate@example.com' });
    const oldCode = await before.codeFor(old.challengeId);
    await before.close();

    const after = await bootTestApp({ DATABASE_URL: db.url, OTP_KEYS: `${b},${a}`, OTP_ENCRYPTION_KEYS: enc });
    try {
      const otp = after.app.get(OtpService);
      const fresh = await otp.issue({ email: 'rotate2@example.com' });
      const [row] = await db.dataSource.query('SELECT code_digests FROM otp_challenges WHERE id = $1', [fresh.challengeId]);
      expect(String(row.code_digests[0])).toMatch(/^keyB:/);
      await expect(otp.verify({ challengeId: old.challengeId, code: oldCode })).resolves.toMatchObject({ purpose: 'login' });
    } finally {
      await after.close();
    }
  });

  it('a code issued under a key that was removed no longer verifies', async () => {
    const a = testKeyLine('gone');
    const enc = testKeyLine('enc1');
    const before = await bootTestApp({ DATABASE_URL: db.url, OTP_KEYS: a, OTP_ENCRYPTION_KEYS: enc });
    const c = await before.app.get(OtpService).issue({ email: 'removed@example.com' });
    const code = await before.codeFor(c.challengeId);
    await before.close();
    const after = await bootTestApp({ DATABASE_URL: db.url, OTP_KEYS: testKeyLine('other'), OTP_ENCRYPTION_KEYS: enc });
    try {
      await expect(after.app.get(OtpService).verify({ challengeId: c.challengeId, code })).rejects.toBeInstanceOf(OtpInvalidError);
    } finally {
      await after.close();
    }
  });

  it.each([
    ['no OTP_KEYS', { OTP_KEYS: '' }, /OTP_KEYS is required in production/],
    ['no OTP_ENCRYPTION_KEYS', { OTP_ENCRYPTION_KEYS: '' }, /OTP_ENCRYPTION_KEYS is required in production/],
    ['a short key', { OTP_KEYS: `k1:${Buffer.alloc(16).toString('base64')}` }, /at least 32 are required/],
    ['a malformed key line', { OTP_KEYS: 'no-separator' }, /kid:base64/],
  ])('refuses to start in production with %s (the start-up check of OtpModule)', (_name, env, message) => {
    const options = otpOptionsFromEnv({ NODE_ENV: 'production', OTP_KEYS: testKeyLine(), OTP_ENCRYPTION_KEYS: testKeyLine('e1'), ...env });
    expect(() => resolveOtpOptions(options, silent)).toThrow(OtpConfigError);
    expect(() => resolveOtpOptions(options, silent)).toThrow(message);
  });

  it('R6: a purpose TTL above 10 minutes is refused unless allowLongTtl names the loosening; 24 h is the hard cap', () => {
    const base = { keys: testKeyLine(), encryptionKeys: testKeyLine('e') };
    expect(() => resolveOtpOptions({ ...base, purposes: { login: { ttlSeconds: 601 } } }, silent)).toThrow(/allowLongTtl/);
    expect(resolveOtpOptions({ ...base, purposes: { link: { ttlSeconds: 3600, allowLongTtl: true } } }, silent).purposes.link.ttlSeconds).toBe(3600);
    expect(() => resolveOtpOptions({ ...base, purposes: { link: { ttlSeconds: 86_401, allowLongTtl: true } } }, silent)).toThrow(OtpConfigError);
    expect(resolveOtpOptions({ ...base }, silent).purposes.login.ttlSeconds).toBe(600);
  });

  it('R10: escalating delays are on by default (5 failures, 2 s doubling, at most 900 s), can be tuned or turned off, and bad values are refused', () => {
    const base = { keys: testKeyLine(), encryptionKeys: testKeyLine('e') };
    expect(resolveOtpOptions({ ...base }, silent).failureBudget.delay).toEqual({ afterFailures: 5, baseSeconds: 2, maxSeconds: 900 });
    expect(resolveOtpOptions({ ...base, failureBudget: { escalatingDelay: { afterFailures: 3, baseSeconds: 5 } } }, silent).failureBudget.delay)
      .toEqual({ afterFailures: 3, baseSeconds: 5, maxSeconds: 900 });
    expect(resolveOtpOptions({ ...base, failureBudget: { escalatingDelay: false } }, silent).failureBudget.delay).toBeNull();
    expect(() => resolveOtpOptions({ ...base, failureBudget: { maxFailures: 10, escalatingDelay: { afterFailures: 11 } } }, silent)).toThrow(/afterFailures/);
    expect(resolveOtpOptions({ ...base, failureBudget: { maxFailures: 3 } }, silent).failureBudget.delay?.afterFailures).toBe(3);
    for (const bad of [{ afterFailures: 0 }, { baseSeconds: 0 }, { baseSeconds: 60, maxSeconds: 30 }, { afterFailures: 101 }, 'yes']) {
      expect(() => resolveOtpOptions({ ...base, failureBudget: { escalatingDelay: bad as never } }, silent)).toThrow(OtpConfigError);
    }
  });

  it('outside production, missing keys give an ephemeral key and a warning that says so', () => {
    const warnings: string[] = [];
    const logger = { warn: (m: string) => warnings.push(m) } as unknown as Logger;
    const resolved = resolveOtpOptions(otpOptionsFromEnv({}), logger);
    expect(resolved.ephemeralKeys).toBe(true);
    expect(warnings.join('\n')).toMatch(/No OTP_KEYS configured: using an ephemeral key/);
  });
});
