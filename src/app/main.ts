import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { apiDocsServed, createApp, listenApp } from './app.factory';
import { AppModule } from './app.module';
import { listenPort, startupFailureText, startupProblems } from './app.preflight';

async function main(): Promise<void> {
  const problems = startupProblems(process.env);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const app = await createApp(AppModule.forEnv(process.env));
  const port = listenPort(process.env);
  const host = process.env.HOST ?? '127.0.0.1';
  await listenApp(app, port, host);
  const scheme = process.env.TLS_CERT_FILE ? 'https' : 'http';
  const base = `${scheme}://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  const db = process.env.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : 'embedded PGlite (in memory)';
  new Logger('Main').log(`listening on ${base} (${process.env.HTTP_ADAPTER ?? 'express'}) with ${db}${apiDocsServed(app) ? `; API docs at ${base}/docs` : ''}`);
  // How to try it goes to stdout as plain text, not through the logger, which masks addresses.
  if (process.env.NODE_ENV !== 'production') {
    process.stdout.write(
      [
        '',
        `Try it: curl -s -X POST ${base}/auth/otp/challenges -H 'content-type: application/json' -d '{"email":"you@example.com"}'`,
        `then read the code at ${base}/dev/mailbox and verify it:`,
        `  curl -s -X POST ${base}/auth/otp/challenges/<challengeId>/verify -H 'content-type: application/json' -d '{"code":"<code>"}'`,
        `A transfer code (POST ${base}/payments/transfers/challenges, signed in) is verified with the same "context": {"code":"<code>","context":{"amount":125.5,"to":"alice"}}`,
        '',
      ].join('\n') + '\n',
    );
  }
}

// One line on stderr (the stack only with LOG_LEVEL=debug), written before exiting: not through the
// asynchronous logger, whose last lines process.exit would drop.
main().catch((err: unknown) => {
  process.stderr.write(startupFailureText(err, process.env), () => process.exit(1));
});
