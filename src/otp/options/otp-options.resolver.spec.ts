import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { OtpConfigError } from '../core/otp.errors';
import { OtpModuleOptions } from './otp-options.interface';
import { resolveOtpOptions } from './otp-options.resolver';

const secret = () => randomBytes(32).toString('base64');
const silent = { warn: () => undefined, log: () => undefined } as never;
const development: OtpModuleOptions = { production: false, keys: `k1:${secret()}`, encryptionKeys: `e1:${secret()}` };
const production: OtpModuleOptions = {
  production: true,
  keys: `k1:${secret()}`,
  encryptionKeys: `e1:${secret()}`,
  indexKey: secret(),
  mail: { smtpUrl: 'smtps://127.0.0.1:9', from: '"T" <otp@example.test>', appUrl: 'https://app.example.test' },
};

/** Every plain object and array reachable from `value`, with its path (not into the host's own objects in `hosts`). */
function plainParts(value: unknown, hosts: unknown[], path = 'options', out: [string, object][] = []): [string, object][] {
  const proto = typeof value === 'object' && value !== null ? Object.getPrototypeOf(value) : undefined;
  if (hosts.includes(value) || (!Array.isArray(value) && proto !== Object.prototype && proto !== null)) return out;
  out.push([path, value as object]);
  for (const [key, child] of Object.entries(value as object)) plainParts(child, hosts, `${path}.${key}`, out);
  return out;
}

describe('resolveOtpOptions: one frozen object, resolved once at start-up', () => {
  // A host's sink as an object literal that keeps its state on itself: a frozen copy of it would break it.
  const sink = { sent: [] as unknown[], send(alert: unknown) { this.sent.push(alert); } };
  const currentUserEmail = (req: { user?: { email?: string } }) => req.user?.email;
  const input = (): OtpModuleOptions => ({
    ...development,
    keys: [{ id: 'k1', secret: randomBytes(32) }],
    purposes: { login: {}, transfer: { requiresContext: true, contextFields: { amount: 'number' } } },
    rateLimits: { redis: { url: 'redis://127.0.0.1:6379' } },
    tokens: { headerName: 'X-Step-Up' },
    currentUserEmail,
    monitoring: { alerts: { sinks: [sink] } },
  });

  it('returns every feature\'s slice, each plain part frozen to any depth', () => {
    const resolved = resolveOtpOptions(input(), silent);
    for (const slice of ['rateLimits', 'mail', 'tokens', 'audit', 'monitoring', 'retention', 'signInNotices'] as const) {
      expect([slice, typeof resolved[slice]]).toEqual([slice, 'object']);
    }
    expect(resolved.tokens.headerName).toBe('x-step-up');
    const parts = plainParts(resolved, [sink]);
    expect(parts.length).toBeGreaterThan(30);
    expect(parts.filter(([, part]) => !Object.isFrozen(part)).map(([path]) => path)).toEqual([]);
  });

  it('a mutation throws (strict mode), at the top and deep inside, and changes nothing', () => {
    expect(function (this: unknown) { return this; }()).toBeUndefined(); // this spec runs in strict mode
    const resolved = resolveOtpOptions(input(), silent);
    const writable = resolved as unknown as Record<string, any>;
    const mutations: [string, () => unknown][] = [
      ['codeLength', () => (writable.codeLength = 4)],
      ['mail.from', () => (writable.mail.from = 'evil@example.test')],
      ['rateLimits.limits.ip-send.limit', () => (writable.rateLimits.limits['ip-send'].limit = 1e6)],
      ['purposes.login.ttlSeconds', () => (writable.purposes.login.ttlSeconds = 86_400)],
      ['a new purpose', () => (writable.purposes.admin = { ttlSeconds: 600 })],
      ['keys.push', () => writable.keys.push({ id: 'k9', secret: Buffer.alloc(32) })],
      ['tokens.headerName', () => (writable.tokens.headerName = 'authorization')],
      ['audit.enabled', () => (writable.audit.enabled = false)],
      ['delete monitoring.outboxTable', () => delete writable.monitoring.outboxTable],
      ['monitoring.sinks.pop', () => writable.monitoring.sinks.pop()],
      ['retention.auditSeconds', () => (writable.retention.auditSeconds = 0)],
      ['signInNotices.intervalSeconds', () => (writable.signInNotices.intervalSeconds = 1)],
    ];
    for (const [name, mutate] of mutations) {
      let thrown: unknown;
      try {
        mutate();
      } catch (err) {
        thrown = err;
      }
      expect([name, thrown instanceof TypeError]).toEqual([name, true]);
    }
    expect([resolved.codeLength, resolved.purposes.login.ttlSeconds, resolved.keys.length, resolved.monitoring.outboxTable])
      .toEqual([6, 600, 1, 'otp_mail_outbox']);
  });

  it('copies the host\'s own objects rather than freezing them, and shares functions and instances as they are', () => {
    const options = input();
    const resolved = resolveOtpOptions(options, silent);
    expect(Object.isFrozen(options.purposes!.transfer.contextFields)).toBe(false);
    expect(Object.isFrozen(options.keys)).toBe(false);
    expect(Object.isFrozen(options.monitoring!.alerts!.sinks)).toBe(false);
    expect(resolved.purposes.transfer.contextFields).toEqual({ amount: 'number' });
    expect(resolved.monitoring.sinks[0]).toBe(sink);
    expect(Object.isFrozen(sink)).toBe(false);
    void resolved.monitoring.sinks[0].send({ rule: 'budget_spent' } as never);
    expect(sink.sent).toHaveLength(1);
    expect(resolved.tokens.currentUserEmail).toBe(currentUserEmail);
    expect(resolved.keys[0].secret.equals((options.keys as { secret: Buffer }[])[0].secret)).toBe(true);
  });

  it('shares a host\'s throttler storage written as an object literal (its counters live on it)', () => {
    const storage = { hits: new Map<string, number>(), last: '', increment(key: string) { this.last = key; } };
    const resolved = resolveOtpOptions({ ...development, rateLimits: { storage: storage as never } }, silent);
    expect(resolved.rateLimits.storage).toBe(storage);
    (resolved.rateLimits.storage as unknown as typeof storage).increment('otp:rl:k');
    expect(storage.last).toBe('otp:rl:k');
  });
});

describe('resolveOtpOptions refuses each feature\'s invalid option itself, with one line naming it', () => {
  const cases: [feature: string, options: OtpModuleOptions, message: RegExp][] = [
    ['keys', { ...development, keys: 'k1:not base64!' }, /OTP_KEYS: key "k1" is not base64/],
    ['purposes', { ...development, purposes: { Login: {} } }, /purpose "Login" must match/],
    ['rate limits', { ...development, rateLimits: { recipient: { limit: 0 } } }, /rateLimits\.recipient\.limit must be an integer/],
    ['mail', { ...development, mail: { smtpUrl: 'http://relay.example.test' } }, /SMTP_URL must start with smtp:\/\/ or smtps:\/\//],
    ['mail outbox', { ...development, mail: { leaseSeconds: 10 } }, /mail\.leaseSeconds must be an integer from 60 to 3600/],
    ['tokens', { ...development, tokens: { headerName: 'Authorization' } }, /tokens\.headerName "authorization" is not a usable header name/],
    ['tokens (lifetime)', { ...development, tokens: { ttlSeconds: 901 } }, /tokens\.ttlSeconds must be an integer from 10 to 900/],
    ['current user', { ...development, currentUserEmail: 'user.email' as never }, /currentUserEmail must be a function of the request/],
    ['audit', { ...production, audit: { adminToken: 'admin-123' } }, /audit\.adminToken \(OTP_ADMIN_TOKEN\) .* in production/],
    ['monitoring', { ...development, monitoring: { outboxTable: 'Outbox; DROP TABLE x' } }, /monitoring\.outboxTable must be a plain lower-case table name/],
    ['monitoring (health cache)', { ...development, monitoring: { smtpCheckCacheSeconds: -1 } }, /monitoring\.smtpCheckCacheSeconds must be an integer/],
    ['sign-in notices', { ...development, signInNotices: { intervalSeconds: 5 } }, /signInNotices\.intervalSeconds must be an integer from 60 to 86400/],
    ['migrations table', { ...development, migrationsTableName: 'public.otp' }, /migrationsTableName must be a lower-case SQL identifier/],
    ['retention (zero)', { ...development, retention: { auditSeconds: 0 } }, /retention\.auditSeconds must be a positive number of seconds/],
    ['retention (negative)', { ...development, retention: { ipTruncateSeconds: -60 } }, /retention\.ipTruncateSeconds must be a positive number of seconds/],
    ['retention (not a number)', { ...development, retention: { challengeSeconds: Number.NaN } }, /retention\.challengeSeconds must be a positive number of seconds/],
  ];

  it.each(cases)('%s', (_feature, options, message) => {
    let thrown: unknown;
    try {
      resolveOtpOptions(options, silent);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(OtpConfigError);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toMatch(/\n/);
  });

  it('the same options without the bad value resolve (each refusal is the option\'s own)', () => {
    expect(() => resolveOtpOptions(development, silent)).not.toThrow();
    expect(() => resolveOtpOptions(production, silent)).not.toThrow();
  });
});

describe('no provider reads the raw module options but the resolver', () => {
  const root = join(__dirname, '..');
  const sources = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [join(dir, e.name)] : []);
  // Block comments and whole-line comments only: a `//` inside code may be a URL.
  const code = (file: string) => readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const files = sources(root).map((file) => [basename(file), code(file)] as const);

  it('only the module definition and the resolver provider in otp.module.ts name the raw options token', () => {
    expect(files.length).toBeGreaterThan(50);
    const naming = files.filter(([, text]) => /\b(OTP_MODULE_OPTIONS|MODULE_OPTIONS_TOKEN)\b/.test(text)).map(([file]) => file);
    expect(naming.sort()).toEqual(['otp.module-definition.ts', 'otp.module.ts']);
    const moduleText = files.find(([file]) => file === 'otp.module.ts')![1];
    const uses = moduleText.replace(/import \{[^}]*\} from '\.\/options\/otp\.module-definition';/, '').match(/\bOTP_MODULE_OPTIONS\b/g) ?? [];
    expect(uses).toHaveLength(1);
    expect(moduleText).toMatch(/provide: OTP_RESOLVED_OPTIONS,\s*useFactory: \(options: OtpModuleOptions\) => resolveOtpOptions\(options\),\s*inject: \[OTP_MODULE_OPTIONS\]/);
  });

  it('no file outside the options root takes OtpModuleOptions (constructors read slices of the resolved options)', () => {
    // The options root: the interface, the resolver and its pre-flight entry for hosts (validateOtpOptions), the module definition.
    const allowed = ['index.ts', 'otp-options.interface.ts', 'otp-options.resolver.ts', 'otp-options.preflight.ts', 'otp.module-definition.ts', 'otp.module.ts'];
    const readers = files.filter(([file, text]) => !allowed.includes(file) && /\bOtpModuleOptions\b/.test(text)).map(([file]) => file);
    expect(readers).toEqual([]);
  });
});
