import { dataSourceOptions } from '../src/app/database/database.options';

describe('database TLS policy (R2)', () => {
  const prod = (env: NodeJS.ProcessEnv) => () => dataSourceOptions({ NODE_ENV: 'production', ...env });

  it('R2: production refuses a remote database without DATABASE_SSL=require', () => {
    expect(prod({ DATABASE_URL: 'postgres://app@db.internal:5432/otp' })).toThrow(/DATABASE_SSL=require/);
  });

  it('R2: production refuses a URL that weakens TLS, even with DATABASE_SSL=require', () => {
    for (const q of ['sslmode=disable', 'sslmode=prefer', 'sslmode=no-verify', 'ssl=false']) {
      expect(prod({ DATABASE_URL: `postgres://app@db.internal:5432/otp?${q}`, DATABASE_SSL: 'require' })).toThrow(/must not weaken TLS/);
    }
  });

  it('R2: verified TLS is configured for a remote database; a database on this host may stay plain', () => {
    const remote = prod({ DATABASE_URL: 'postgres://app@db.internal:5432/otp', DATABASE_SSL: 'require' })();
    expect((remote as { ssl?: unknown }).ssl).toEqual({});
    expect(JSON.stringify(remote)).not.toMatch(/rejectUnauthorized/);
    expect(prod({ DATABASE_URL: 'postgres://app@127.0.0.1:5432/otp' })).not.toThrow();
    expect(() => dataSourceOptions({ DATABASE_URL: 'postgres://app@db.internal:5432/otp' })).not.toThrow();
  });
});
