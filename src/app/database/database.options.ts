import { readFileSync } from 'node:fs';
import { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { DataSourceOptions } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import { ALL_MIGRATIONS } from '../../../migrations';

/**
 * Real Postgres when `DATABASE_URL` is set; otherwise an embedded PGlite
 * database in this process (in memory, or in `PGLITE_DIR`), migrated at start.
 */
export function dataSourceOptions(env: NodeJS.ProcessEnv = process.env): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    migrations: ALL_MIGRATIONS,
    synchronize: false,
    logging: false,
  };
  if (env.DATABASE_URL) {
    return {
      ...common,
      url: env.DATABASE_URL,
      ssl: databaseTls(env),
      extra: { max: Number(env.DATABASE_POOL_SIZE ?? 10), application_name: 'nestjs-email-otp' },
      migrationsRun: env.DATABASE_MIGRATE === 'true',
    };
  }
  return {
    ...common,
    driver: new PGliteDriver(env.PGLITE_DIR ? { dataDir: env.PGLITE_DIR } : {}).driver,
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    migrationsRun: true,
  };
}

/**
 * TLS to Postgres: `DATABASE_SSL=require` (or an `sslmode=require|verify-full`
 * in the URL, which `pg` reads itself) verifies the server certificate against
 * the system CAs or `DATABASE_CA_FILE`. Certificate checks are never disabled.
 */
function databaseTls(env: NodeJS.ProcessEnv): { ca?: string } | undefined {
  if (env.DATABASE_SSL !== 'require') return undefined;
  return env.DATABASE_CA_FILE ? { ca: readFileSync(env.DATABASE_CA_FILE, 'utf8') } : {};
}

export function typeOrmModuleOptions(env: NodeJS.ProcessEnv = process.env): TypeOrmModuleOptions {
  return { ...dataSourceOptions(env), autoLoadEntities: true } as TypeOrmModuleOptions;
}
