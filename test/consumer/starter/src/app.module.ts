import { Controller, HttpCode, Module, Post, UseGuards } from '@nestjs/common';
import { TypeOrmModule, TypeOrmModuleOptions } from '@nestjs/typeorm';
import { OTP_MIGRATIONS, OtpGuard, OtpModule, OtpProof, RedeemedOtpProof, RequireOtp } from 'nestjs-email-otp';

/** A host route guarded by a one-time proof of the `login` purpose. */
@Controller('reports')
export class ReportsController {
  @Post()
  @HttpCode(201)
  @UseGuards(OtpGuard)
  @RequireOtp('login')
  create(@OtpProof() proof: RedeemedOtpProof): { challengeId: string; amr: readonly string[] } {
    return { challengeId: proof.challengeId, amr: proof.amr };
  }
}

/** PostgreSQL on DATABASE_URL (migrated by `npx nestjs-email-otp migration:run`), else embedded PGlite migrated here. */
function database(): TypeOrmModuleOptions {
  if (process.env.DATABASE_URL) return { type: 'postgres', url: process.env.DATABASE_URL, autoLoadEntities: true };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PGliteDriver } = require('typeorm-pglite') as typeof import('typeorm-pglite');
  return {
    type: 'postgres',
    driver: new PGliteDriver().driver,
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    autoLoadEntities: true,
    migrations: OTP_MIGRATIONS,
    migrationsTableName: 'otp_migrations',
    migrationsRun: true,
  } as TypeOrmModuleOptions;
}

@Module({
  imports: [
    TypeOrmModule.forRootAsync({ useFactory: database }),
    OtpModule.forRoot({
      keys: process.env.OTP_KEYS,
      encryptionKeys: process.env.OTP_ENCRYPTION_KEYS,
      purposes: { login: {} },
    }),
  ],
  controllers: [ReportsController],
})
export class AppModule {}
