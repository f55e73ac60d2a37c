import { randomBytes } from 'node:crypto';
import { OtpModuleOptions } from './otp-options.interface';
import { resolveOtpOptions } from './otp-options.resolver';

const keys = { keys: `k1:${randomBytes(32).toString('base64')}`, encryptionKeys: `e1:${randomBytes(32).toString('base64')}` };

describe('migrationsTableName (where the start-up schema check looks for the module migrations)', () => {
  it('defaults to otp_migrations, the table the bin writes', () => {
    expect(resolveOtpOptions(keys as OtpModuleOptions).migrationsTableName).toBe('otp_migrations');
  });

  it('takes a plain lower-case identifier and refuses anything else at start-up, naming the option', () => {
    expect(resolveOtpOptions({ ...keys, migrationsTableName: 'otp_schema_history' } as OtpModuleOptions).migrationsTableName).toBe('otp_schema_history');
    for (const bad of ['Otp', 'otp-migrations', 'x"; DROP TABLE otp_challenges; --', 'public.otp']) {
      expect(() => resolveOtpOptions({ ...keys, migrationsTableName: bad } as OtpModuleOptions)).toThrow(/migrationsTableName must be a lower-case SQL identifier/);
    }
  });
});
