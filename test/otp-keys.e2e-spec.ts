import { Logger } from '@nestjs/common';
import { otpOptionsFromEnv } from '../src/app/app.config';
import { resolveOtpOptions } from '../src/otp/options/otp-options.resolver';
import { OtpConfigError, OtpInvalidError, OtpService } from '../src/otp';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { testKeyLine } from './support/test-app';
import { testApp } from './support/test-app.builder';

const silent = { warn: () => undefined } as unknown as Logger;
/** The base64 secret of a `kid:base64` line (what OTP_INDEX_KEY takes). */
const secretOf = (line: string) => line.slice(line.indexOf(':') + 1);

describe('keys and production mode', () => {
  let db: TestDatabase;
  const index = secretOf(testKeyLine('ix'));
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  it('key rotation: a code issued under key A verifies after key B is added in front; new codes use B', async () => {
    const a = testKeyLine('keyA');
    const b = testKeyLine('keyB');
    const enc = testKeyLine('enc1');
    const before = await testApp().database(db).env({ OTP_KEYS: a, OTP_ENCRYPTION_KEYS: enc, OTP_INDEX_KEY: index }).boot();
    const old = await before.app.get(OtpService).issue({ email: 'rotate@example.com' });
    const oldCode = await before.codeFor(old.challengeId);
    await before.close();

    // The index pinned, as `otp:keys -- rotate` prints it: the apps of this suite share one database.
    const after = await testApp().database(db).env({ OTP_KEYS: `${b},${a}`, OTP_ENCRYPTION_KEYS: enc, OTP_INDEX_KEY: index }).boot();
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
    const before = await testApp().database(db).env({ OTP_KEYS: a, OTP_ENCRYPTION_KEYS: enc, OTP_INDEX_KEY: index }).boot();
    const c = await before.app.get(OtpService).issue({ email: 'removed@example.com' });
    const code = await before.codeFor(c.challengeId);
    await before.close();
    const after = await testApp().database(db).env({ OTP_KEYS: testKeyLine('other'), OTP_ENCRYPTION_KEYS: enc, OTP_INDEX_KEY: index }).boot();
    try {
      await expect(after.app.get(OtpService).verify({ challengeId: c.challengeId, code })).rejects.toBeInstanceOf(OtpInvalidError);
    } finally {
      await after.close();
    }
  });

  it('the blind index never changes silently: a key put in front of OTP_KEYS without OTP_INDEX_KEY is refused at start, OTP_INDEX_KEY set to the old key starts', async () => {
    const own = await createTestDatabase();
    try {
      const a = testKeyLine('keyA');
      const enc = testKeyLine('enc1');
      const first = await testApp().database(own).env({ OTP_KEYS: a, OTP_ENCRYPTION_KEYS: enc }).boot();
      await first.close();
      const [row] = await own.dataSource.query(`SELECT fingerprint FROM otp_key_fingerprints WHERE role = 'blind-index'`);
      expect(row.fingerprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(row.fingerprint).not.toContain(secretOf(a));

      const rotated = `${testKeyLine('keyB')},${a}`;
      await expect(testApp().database(own).env({ OTP_KEYS: rotated, OTP_ENCRYPTION_KEYS: enc }).boot())
        .rejects.toThrow(/blind index key differs from the one this database was used with.*OTP_INDEX_KEY/);
      await expect(testApp().database(own).env({ OTP_KEYS: rotated, OTP_ENCRYPTION_KEYS: enc, OTP_INDEX_KEY: secretOf(testKeyLine('x')) }).boot())
        .rejects.toThrow(/blind index key differs/);
      const pinned = await testApp().database(own).env({ OTP_KEYS: rotated, OTP_ENCRYPTION_KEYS: enc, OTP_INDEX_KEY: secretOf(a) }).boot();
      await pinned.close();
    } finally {
      await own.drop();
    }
  });

  it('refuses one secret used both as an HMAC key (OTP_KEYS or OTP_INDEX_KEY) and an encryption key (OTP_ENCRYPTION_KEYS), in every mode', () => {
    const line = testKeyLine('k1');
    const shared = secretOf(line);
    for (const production of ['production', 'development']) {
      const env = { NODE_ENV: production, OTP_INDEX_KEY: secretOf(testKeyLine()), SMTP_URL: 'smtps://127.0.0.1:9', MAIL_FROM: 'otp@example.test', APP_URL: 'https://app.example.test' };
      expect(() => resolveOtpOptions(otpOptionsFromEnv({ ...env, OTP_KEYS: `k0:${secretOf(testKeyLine())},${line}`, OTP_ENCRYPTION_KEYS: `e1:${shared}` }), silent))
        .toThrow(/OTP_KEYS key "k1" and OTP_ENCRYPTION_KEYS key "e1" are the same secret/);
      expect(() => resolveOtpOptions(otpOptionsFromEnv({ ...env, OTP_KEYS: testKeyLine(), OTP_INDEX_KEY: shared, OTP_ENCRYPTION_KEYS: `e1:${shared}` }), silent))
        .toThrow(/OTP_INDEX_KEY and OTP_ENCRYPTION_KEYS key "e1" are the same secret/);
    }
    // OTP_INDEX_KEY pinned to a code key is the documented rotation path (both are HMAC keys, derived per use).
    expect(() => resolveOtpOptions(otpOptionsFromEnv({ OTP_KEYS: line, OTP_INDEX_KEY: shared, OTP_ENCRYPTION_KEYS: testKeyLine('e1') }), silent)).not.toThrow();
  });

  it('production requires OTP_INDEX_KEY, and names every missing setting in one message', () => {
    const env = { NODE_ENV: 'production', OTP_KEYS: testKeyLine(), OTP_ENCRYPTION_KEYS: testKeyLine('e1'), SMTP_URL: 'smtps://127.0.0.1:9', MAIL_FROM: 'otp@example.test', APP_URL: 'https://app.example.test' };
    expect(() => resolveOtpOptions(otpOptionsFromEnv(env), silent)).toThrow(/OTP_INDEX_KEY/);
    expect(() => resolveOtpOptions(otpOptionsFromEnv({ ...env, OTP_INDEX_KEY: secretOf(testKeyLine()) }), silent)).not.toThrow();
    let message = '';
    try {
      resolveOtpOptions(otpOptionsFromEnv({ NODE_ENV: 'production' }), silent);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^required in production and not set: OTP_KEYS, OTP_ENCRYPTION_KEYS, OTP_INDEX_KEY, SMTP_URL, MAIL_FROM, APP_URL\b/);
    expect(message).not.toContain('\n');
  });

  it('production with mail.useHostMailer needs no SMTP_URL (the host\'s MailerService is the relay); without it SMTP_URL is still named', () => {
    const options = {
      production: true, keys: testKeyLine(), encryptionKeys: testKeyLine('e1'), indexKey: secretOf(testKeyLine()),
      mail: { useHostMailer: true, from: 'otp@example.test', appUrl: 'https://app.example.test' },
    };
    expect(resolveOtpOptions(options, silent).mail.useHostMailer).toBe(true);
    expect(() => resolveOtpOptions({ ...options, mail: { from: 'otp@example.test', appUrl: 'https://app.example.test' } }, silent))
      .toThrow(/^required in production and not set: SMTP_URL \(SMTP_URL: /);
  });

  it.each([
    ['OTP_KEYS', { OTP_KEYS: 'k1:not base64 at all!' }, /OTP_KEYS: key "k1" is not base64/],
    ['OTP_KEYS', { OTP_KEYS: `k1:ab=c${Buffer.alloc(32).toString('base64')}` }, /OTP_KEYS: key "k1" is not base64/],
    ['OTP_ENCRYPTION_KEYS', { OTP_ENCRYPTION_KEYS: 'e1:%%%%' }, /OTP_ENCRYPTION_KEYS: key "e1" is not base64/],
    ['OTP_INDEX_KEY', { OTP_INDEX_KEY: 'short!' }, /OTP_INDEX_KEY is not base64/],
    ['OTP_INDEX_KEY', { OTP_INDEX_KEY: Buffer.alloc(16).toString('base64') }, /OTP_INDEX_KEY has 16 bytes; at least 32/],
  ])('says what is wrong with a malformed %s value (not base64, not "has 6 bytes")', (_name, env, message) => {
    const options = otpOptionsFromEnv({ OTP_KEYS: testKeyLine(), OTP_ENCRYPTION_KEYS: testKeyLine('e1'), ...env });
    expect(() => resolveOtpOptions(options, silent)).toThrow(message);
  });

  it.each([
    ['no OTP_KEYS', { OTP_KEYS: '' }, /required in production and not set: OTP_KEYS \(/],
    ['no OTP_ENCRYPTION_KEYS', { OTP_ENCRYPTION_KEYS: '' }, /required in production and not set: OTP_ENCRYPTION_KEYS \(/],
    ['a short key', { OTP_KEYS: `k1:${Buffer.alloc(16).toString('base64')}` }, /at least 32 are required/],
    ['a malformed key line', { OTP_KEYS: 'no-separator' }, /kid:base64/],
  ])('refuses to start in production with %s (the start-up check of OtpModule)', (_name, env, message) => {
    const options = otpOptionsFromEnv({
      NODE_ENV: 'production', OTP_KEYS: testKeyLine(), OTP_ENCRYPTION_KEYS: testKeyLine('e1'), OTP_INDEX_KEY: secretOf(testKeyLine()),
      SMTP_URL: 'smtps://127.0.0.1:9', MAIL_FROM: 'otp@example.test', APP_URL: 'https://app.example.test', ...env,
    });
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
