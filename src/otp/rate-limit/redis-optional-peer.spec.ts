import { OtpConfigError } from '../core/otp.errors';

describe('the Redis storage is an optional peer', () => {
  afterEach(() => {
    jest.resetModules();
    jest.dontMock('ioredis');
  });

  it('without ioredis installed, rateLimits.redis fails at start with a message naming the packages to install', () => {
    jest.doMock('ioredis', () => {
      throw Object.assign(new Error("Cannot find module 'ioredis'"), { code: 'MODULE_NOT_FOUND' });
    });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { RedisOtpThrottlerStorage } = require('./redis-throttler-storage') as typeof import('./redis-throttler-storage');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { OtpConfigError: Err } = require('../core/otp.errors') as { OtpConfigError: typeof OtpConfigError };
    const start = () => RedisOtpThrottlerStorage.connect({ url: 'redis://127.0.0.1:6379' });
    expect(start).toThrow(Err);
    expect(start).toThrow('rateLimits.redis needs the optional peers: npm install @nest-lab/throttler-storage-redis ioredis (ioredis is missing)');
  });

  it('loading the module does not load ioredis or the storage package (a host without Redis never needs them)', () => {
    const missing = (name: string) => () => {
      throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
    };
    jest.doMock('ioredis', missing('ioredis'));
    jest.doMock('@nest-lab/throttler-storage-redis', missing('@nest-lab/throttler-storage-redis'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect(() => require('../otp.module')).not.toThrow();
    jest.dontMock('@nest-lab/throttler-storage-redis');
  });
});
