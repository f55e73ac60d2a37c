import 'reflect-metadata';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../../src/app/app.module';

/**
 * Boots the example app without HTTP, on DATABASE_URL, for an operations command.
 * Refuses to run without the database and the real keys: the address index must
 * be the production one, or erasure would look for the wrong subject.
 */
export async function withAppContext<T>(name: string, fn: (app: INestApplicationContext) => Promise<T>): Promise<T> {
  if (!process.env.DATABASE_URL) throw new Error(`${name}: set DATABASE_URL (and the OTP_* keys of the running app)`);
  if (!process.env.OTP_KEYS && !process.env.OTP_INDEX_KEY) throw new Error(`${name}: set OTP_KEYS (or OTP_INDEX_KEY) as the app has them`);
  const app = await NestFactory.createApplicationContext(
    AppModule.forEnv({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }),
    { bufferLogs: true },
  );
  try {
    return await fn(app);
  } finally {
    await app.close(); // flushes the audit events the command emitted
  }
}

/** Runs a command's main and exits 0, or 2 with the message on failure. */
export function runCommand(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: Error) => {
      console.error(err.message);
      process.exit(2);
    },
  );
}
