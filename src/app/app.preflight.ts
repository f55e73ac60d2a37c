import { validateOtpOptions } from 'nestjs-email-otp';
import { otpOptionsFromEnv } from './app.config';
import { logFlushMs } from './app.log-destination';
import { databaseUrlProblem } from './database/database.options';
import { httpSettingsFromEnv } from './http/http-settings';

/** `PORT`: an integer from 0 to 65535 (default 3000). */
export function listenPort(env: NodeJS.ProcessEnv): number {
  const raw = (env.PORT ?? '3000').trim();
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(port >= 0 && port <= 65_535)) throw new Error(`PORT must be a number from 0 to 65535 (got "${raw.slice(0, 20)}")`);
  return port;
}

/**
 * Every problem of the environment that would stop the example app, found before
 * anything starts, so production names them all at once rather than one per restart.
 */
export function startupProblems(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const check = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      problems.push((err as Error).message);
    }
  };
  check(() => listenPort(env));
  check(() => httpSettingsFromEnv(env));
  check(() => {
    const problem = databaseUrlProblem(env);
    if (problem) throw new Error(problem);
  });
  check(() => validateOtpOptions(otpOptionsFromEnv(env)));
  check(() => logFlushMs(env));
  return problems;
}

const HINTS: Record<string, (err: NodeJS.ErrnoException & { address?: string; port?: number }) => string> = {
  EADDRINUSE: (e) => `port ${e.port} on ${e.address} is in use by another process: stop it, or set PORT (and HOST) to a free one`,
  EACCES: (e) => `not allowed to listen on port ${e.port} on ${e.address}: use a port above 1023, or set HOST to an address of this machine`,
  EADDRNOTAVAIL: (e) => `HOST ${e.address} is not an address of this machine: set HOST (127.0.0.1 or 0.0.0.0)`,
  ECONNREFUSED: (e) => `the database refused the connection (${e.message}): start PostgreSQL, or fix DATABASE_URL`,
  ENOTFOUND: (e) => `the database host is unknown (${e.message}): fix the host in DATABASE_URL`,
};

/**
 * The one line a failed start prints on stderr: what is wrong and how to fix it.
 * The stack follows only with `LOG_LEVEL=debug`.
 */
export function startupFailureText(err: unknown, env: NodeJS.ProcessEnv): string {
  const e = (err instanceof Error ? err : new Error(String(err))) as NodeJS.ErrnoException;
  const hint = e.code ? HINTS[e.code] : undefined;
  const line = `start-up failed: ${(hint ? hint(e) : e.message).replace(/\s*\n\s*/g, ' ')}`;
  return env.LOG_LEVEL === 'debug' && e.stack ? `${line}\n${e.stack}\n` : `${line}\n`;
}
