import { randomBytes } from 'node:crypto';
import { resolveOtpOptions } from '../options/otp-options.resolver';
import { operatorTokenProblem } from './operator-token';

const keys = () => `k1:${randomBytes(32).toString('base64')}`;
const production = (adminToken: string | undefined) => () =>
  resolveOtpOptions({
    production: true,
    keys: keys(),
    encryptionKeys: `e1:${randomBytes(32).toString('base64')}`,
    indexKey: randomBytes(32).toString('base64'),
    mail: { smtpUrl: 'smtps://127.0.0.1:9', from: '"T" <otp@example.test>', appUrl: 'https://app.example.test' },
    audit: { adminToken },
  }, { warn: () => undefined, log: () => undefined } as never);

describe('operator token strength', () => {
  it('accepts 32 random bytes as base64url, base64 (padded) or hex', () => {
    for (let i = 0; i < 50; i++) {
      const bytes = randomBytes(32);
      expect(operatorTokenProblem(bytes.toString('base64url'))).toBeUndefined();
      expect(operatorTokenProblem(bytes.toString('base64'))).toBeUndefined();
      expect(operatorTokenProblem(bytes.toString('hex'))).toBeUndefined();
    }
  });

  it('refuses fewer than 43 base64url characters, other alphabets, and low-entropy tokens', () => {
    expect(operatorTokenProblem(randomBytes(31).toString('base64url'))).toMatch(/32 random bytes/);
    expect(operatorTokenProblem('admin-123')).toMatch(/32 random bytes/);
    expect(operatorTokenProblem('a'.repeat(64))).toMatch(/32 random bytes/);
    expect(operatorTokenProblem('abcdefghijklmnop'.repeat(4))).toMatch(/32 random bytes/);
    expect(operatorTokenProblem('0123456789'.repeat(5))).toMatch(/32 random bytes/);
    expect(operatorTokenProblem(`${randomBytes(32).toString('base64url')} `)).toMatch(/32 random bytes/);
    expect(operatorTokenProblem('é'.repeat(43))).toMatch(/32 random bytes/);
  });

  it('requires the length by alphabet: 43 hex characters refused, 64 hex accepted, 43 decimal digits refused, 31 bytes padded base64 refused', () => {
    expect(operatorTokenProblem(randomBytes(32).toString('hex').slice(0, 43))).toMatch(/32 random bytes/);
    expect(operatorTokenProblem(randomBytes(32).toString('hex').slice(0, 63))).toMatch(/32 random bytes/);
    expect(operatorTokenProblem(randomBytes(32).toString('hex'))).toBeUndefined();
    const digits = Array.from(randomBytes(43), (b) => String(b % 10)).join('');
    expect(operatorTokenProblem(digits)).toMatch(/32 random bytes/);
    expect(operatorTokenProblem(randomBytes(31).toString('base64'))).toMatch(/32 random bytes/); // 44 characters, 42 of data
    expect(operatorTokenProblem(randomBytes(32).toString('base64'))).toBeUndefined();
  });

  it('in production an audit.adminToken under 32 random bytes is refused at start, in one line saying how to make one', () => {
    expect(production('admin-token')).toThrow(/^audit\.adminToken .*32 random bytes.*generate one with: node -e "console\.log\(require\('crypto'\)\.randomBytes\(32\)\.toString\('base64url'\)\)"$/);
    expect(production('x'.repeat(60))).toThrow(/audit\.adminToken/);
    const message = (() => { try { production('admin-token')(); } catch (e) { return (e as Error).message; } })();
    expect(message).not.toContain('admin-token');
    expect(message).not.toContain('\n');
    expect(production(randomBytes(32).toString('base64url'))).not.toThrow();
    expect(production(undefined)).not.toThrow();
  });

  it('in development a short token is still accepted, with a warning that production would refuse it', () => {
    const warnings: string[] = [];
    const o = () => resolveOtpOptions({ production: false, audit: { adminToken: 'dev-token' } }, { warn: (m: string) => warnings.push(m), log: () => undefined } as never);
    expect(o).not.toThrow();
    expect(warnings.some((w) => /audit\.adminToken/.test(w) && /refused in production/.test(w) && !w.includes('dev-token'))).toBe(true);
  });
});
