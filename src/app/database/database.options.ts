import { readFileSync } from 'node:fs';
import { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { DataSource, DataSourceOptions } from 'typeorm';
import { runOtpMigrations } from 'nestjs-email-otp';
import { isLoopbackHost } from './loopback-host';
import { EXAMPLE_APP_MIGRATIONS } from './migrations';

/**
 * The module's migrations (table `otp_migrations`) and the example app's own (`accounts`,
 * `transfers`; table `migrations`) migrate separately.
 * Real Postgres when `DATABASE_URL` is set; otherwise an embedded PGlite
 * database in this process (in memory, or in `PGLITE_DIR`), migrated at start.
 */
export function dataSourceOptions(env: NodeJS.ProcessEnv = process.env): DataSourceOptions {
  const problem = databaseUrlProblem(env);
  if (problem) throw new Error(problem);
  const common = {
    type: 'postgres' as const,
    migrations: EXAMPLE_APP_MIGRATIONS,
    synchronize: false,
    logging: false,
  };
  if (env.DATABASE_URL) {
    assertDatabaseTls(env);
    return {
      ...common,
      url: env.DATABASE_URL,
      ssl: databaseTls(env),
      extra: { max: Number(env.DATABASE_POOL_SIZE ?? 10), application_name: 'nestjs-email-otp' },
      migrationsRun: env.DATABASE_MIGRATE === 'true',
    };
  }
  // Loaded only for the embedded mode: a process with DATABASE_URL never loads PGlite.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { PGliteDriver } = require('typeorm-pglite') as typeof import('typeorm-pglite');
  return {
    ...common,
    driver: new PGliteDriver(env.PGLITE_DIR ? { dataDir: env.PGLITE_DIR } : {}).driver,
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    migrationsRun: true,
  };
}

/** What is wrong with `DATABASE_URL` (never echoing it: it may hold a password), or undefined. */
export function databaseUrlProblem(env: NodeJS.ProcessEnv): string | undefined {
  if (!env.DATABASE_URL) return undefined;
  let url: URL;
  try {
    url = new URL(env.DATABASE_URL);
  } catch {
    return 'DATABASE_URL is not a URL: expected postgres://user:password@host:5432/database (or unset it for the embedded database)';
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return `DATABASE_URL must start with postgres:// or postgresql:// (got ${url.protocol}//)`;
  }
  return undefined;
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

/**
 * R2: in production a database off this host is reached only over verified TLS:
 * `DATABASE_SSL=require`, and no `sslmode`/`ssl` in the URL that would override it
 * (pg lets URL parameters win over the `ssl` option).
 */
function assertDatabaseTls(env: NodeJS.ProcessEnv): void {
  if (env.NODE_ENV !== 'production') return;
  const url = new URL(env.DATABASE_URL!);
  // No host means a Unix socket, as does a `host` parameter (a socket directory).
  const local = url.hostname === '' || isLoopbackHost(url.hostname) || url.searchParams.has('host');
  const weakened = ['disable', 'allow', 'prefer', 'no-verify'].includes(url.searchParams.get('sslmode') ?? '')
    || ['false', '0'].includes(url.searchParams.get('ssl') ?? '');
  if (weakened) throw new Error('DATABASE_URL must not weaken TLS (sslmode/ssl) in production');
  if (!local && env.DATABASE_SSL !== 'require') {
    throw new Error('DATABASE_SSL=require is needed in production for a database off this host (TLS with certificate checks)');
  }
}

export function typeOrmModuleOptions(env: NodeJS.ProcessEnv = process.env): TypeOrmModuleOptions {
  return { ...dataSourceOptions(env), autoLoadEntities: true } as TypeOrmModuleOptions;
}

/**
 * `TypeOrmModule`'s data source: when migrations run at start, the module's run first (in
 * `otp_migrations`, through the package's runner, on this same connection), then the app's own.
 */
export async function appDataSourceFactory(options?: DataSourceOptions): Promise<DataSource> {
  const migrate = Boolean(options!.migrationsRun);
  const dataSource = await new DataSource({ ...options!, migrationsRun: false }).initialize();
  if (migrate) {
    await runOtpMigrations(dataSource);
    await dataSource.runMigrations();
  }
  return dataSource;
}
