import 'reflect-metadata';
import { INestApplication, Logger } from '@nestjs/common';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import pino from 'pino';
import { apiDocsServed, createApp, listenApp } from './app.factory';
import { AppLogDestination, flushAppLogs } from './app.log-destination';
import { AppModule } from './app.module';
import { listenPort, startupFailureText, startupProblems } from './app.preflight';

/**
 * Writes start-up text to stdout behind the log lines. pino's lines wait in a buffer (LOG_FLUSH_MS) or
 * in pino-pretty's thread, so text written to process.stdout directly lands above lines logged before
 * it: it goes into the stream the app's logger writes to (nestjs-pino's logger outside a request),
 * queued after them, and that stream is flushed so the address shows at once.
 */
function startupOutput(app: INestApplication): (text: string) => void {
  let stream: { write?: (text: string) => unknown; flush?: () => unknown } | undefined;
  try {
    const nest = app.get(PinoNestLogger, { strict: false }) as unknown as { logger?: { logger?: Record<symbol, typeof stream> } };
    stream = nest.logger?.logger?.[pino.symbols.streamSym];
  } catch {
    stream = undefined; // no logging module: Nest's own logger writes synchronously
  }
  if (typeof stream?.write !== 'function') return (text) => void process.stdout.write(text);
  return (text) => {
    stream.write!(text);
    // The app's own stdout has flush(); a transport's (pino-pretty) is left to its thread.
    if (stream instanceof AppLogDestination) stream.flush();
  };
}

async function main(): Promise<void> {
  const problems = startupProblems(process.env);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const app = await createApp(AppModule.forEnv(process.env));
  const port = listenPort(process.env);
  const host = process.env.HOST ?? '127.0.0.1';
  await listenApp(app, port, host);
  const scheme = process.env.TLS_CERT_FILE ? 'https' : 'http';
  // The bound port: PORT=0 picks a free one.
  const bound = (app.getHttpServer().address() as { port?: number } | null)?.port ?? port;
  const base = `${scheme}://${host === '0.0.0.0' ? '127.0.0.1' : host}:${bound}`;
  const db = process.env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : 'embedded PGlite (in memory)';
  new Logger('Main').log(`listening on ${base} (${process.env.HTTP_ADAPTER ?? 'express'}) with ${db}${apiDocsServed(app) ? `; API docs at ${base}/docs` : ''}`);
  const out = startupOutput(app);
  // How to try it goes to stdout as plain text, not through the logger, which masks addresses.
  if (process.env.NODE_ENV !== 'production') {
    out(
      [
        '',
        `Try it in a browser: sign in at ${base}/ with any address; the code is in the development mailbox, ${base}/dev/mailbox`,
        `Or with curl: curl -s -X POST ${base}/auth/otp/challenges -H 'content-type: application/json' -d '{"email":"you@example.com"}'`,
        `  then read the code at ${base}/dev/mailbox and verify it:`,
        `  curl -s -X POST ${base}/auth/otp/challenges/<challengeId>/verify -H 'content-type: application/json' -d '{"code":"<code>"}'`,
        `A transfer code (POST ${base}/payments/transfers/challenges, signed in) is verified with the same "context": {"code":"<code>","context":{"amount":125.5,"to":"alice"}}`,
        '',
      ].join('\n') + '\n',
    );
  }
  // The last line of the start-up output, after every log line: where to point a browser.
  out(`open ${base}/\n`);
}

// One line on stderr (the stack only with LOG_LEVEL=debug), written before exiting: not through the
// buffered logger, after the log lines it still holds (written out first, so the failure comes last).
main().catch((err: unknown) => {
  flushAppLogs();
  process.stderr.write(startupFailureText(err, process.env), () => process.exit(1));
});
