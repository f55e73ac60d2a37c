import { DynamicModule, INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OtpModule } from '../otp.module';

/**
 * The module alone on DATABASE_URL, without HTTP, the host app or the mail dispatcher: what the
 * operations commands need (keys, stores, audit). Configured from the host's environment.
 */
@Module({})
class OtpCliModule {
  static forEnv(env: NodeJS.ProcessEnv): DynamicModule {
    return {
      module: OtpCliModule,
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: env.DATABASE_URL, autoLoadEntities: true, synchronize: false, logging: false,
          extra: { max: 2, application_name: 'nestjs-email-otp-cli' } }),
        OtpModule.forRoot({
          keys: env.OTP_KEYS,
          encryptionKeys: env.OTP_ENCRYPTION_KEYS,
          indexKey: env.OTP_INDEX_KEY,
          production: env.NODE_ENV === 'production',
          audit: { enabled: env.OTP_AUDIT !== 'off' },
          // The commands send no mail: the dispatcher stays off, the transport is never opened.
          mail: { smtpUrl: env.SMTP_URL || undefined, from: env.MAIL_FROM || undefined, appUrl: env.APP_URL || undefined, dispatcher: false },
          retention: { enabled: false },
          routePrefix: false,
          operatorRoutes: false,
        }),
      ],
    };
  }
}

/**
 * Boots the module for an operations command. Refuses to run without the database and the real
 * keys: the address index must be the production one, or erasure would look for the wrong subject.
 */
export async function withOtpContext<T>(name: string, env: NodeJS.ProcessEnv, fn: (app: INestApplicationContext) => Promise<T>): Promise<T> {
  if (!env.DATABASE_URL) throw new Error(`${name}: set DATABASE_URL (and the OTP_* keys of the running app)`);
  if (!env.OTP_KEYS && !env.OTP_INDEX_KEY) throw new Error(`${name}: set OTP_KEYS (or OTP_INDEX_KEY) as the app has them`);
  const app = await NestFactory.createApplicationContext(OtpCliModule.forEnv(env), { logger: ['error', 'warn'], abortOnError: false });
  try {
    return await fn(app);
  } finally {
    await app.close(); // flushes the audit events the command emitted
  }
}
