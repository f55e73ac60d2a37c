import { DynamicModule, Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { Logger, PinoLogger } from 'nestjs-pino';
import pino, { DestinationStream, Logger as Pino, LoggerOptions } from 'pino';
import { OtpAccessLog, otpAccessLog, otpLoggerOptions } from 'nestjs-email-otp';
import { AppLogDestination, logFlushMs } from './app.log-destination';

/** The app's pino logger (one for every request: lines logged while serving one carry its `requestId`). */
export const APP_PINO = Symbol('APP_PINO');
/** Starts a request's access line (`otpAccessLog`); the HTTP helpers call it in their first hook. */
export const APP_ACCESS_LOG = Symbol('APP_ACCESS_LOG');

/** The buffered stdout the app created (none with a test's destination or `LOG_FORMAT=pretty`). */
const APP_LOG_DESTINATION = Symbol('APP_LOG_DESTINATION');

@Global()
@Module({})
class AppLoggingModule implements OnApplicationShutdown {
  constructor(@Inject(APP_LOG_DESTINATION) private readonly destination: AppLogDestination | null) {}

  // Global modules' shutdown hooks run last, after what the others log while closing; a line logged after
  // this one is written at once. Nest then re-raises SIGTERM, which no exit handler survives.
  async onApplicationShutdown(): Promise<void> {
    await this.destination?.close();
  }
}

/**
 * Structured JSON logs for the example app (pino, through nestjs-pino's Nest logger), with the
 * OTP module's central redaction. `LOG_LEVEL` (default `info`), `LOG_FORMAT=pretty` for
 * human-readable output in development only. JSON lines go to stdout in batches, at most
 * `LOG_FLUSH_MS` after they were logged (`0`: each at once), and every buffered line is written
 * when the app closes or the process exits. The access line of each request is written by
 * the HTTP helpers' first hook (`APP_ACCESS_LOG`), not by a Nest middleware.
 */
export function loggingModule(env: NodeJS.ProcessEnv, destination?: DestinationStream): DynamicModule {
  // A destination (tests) takes JSON: pino refuses a transport next to a stream.
  const options = otpLoggerOptions({ level: env.LOG_LEVEL, format: destination ? 'json' : env.LOG_FORMAT }) as LoggerOptions;
  const flushMs = logFlushMs(env);
  // pino-pretty (a transport, in its own thread) does its own writing.
  const ownStdout = !destination && !options.transport;
  return {
    module: AppLoggingModule,
    providers: [
      { provide: APP_LOG_DESTINATION, useFactory: () => (ownStdout ? new AppLogDestination(flushMs) : null) },
      {
        provide: APP_PINO,
        useFactory: (stdout: AppLogDestination | null) => pino(options, destination ?? stdout ?? undefined),
        inject: [APP_LOG_DESTINATION],
      },
      // nestjs-pino's Nest logger without its middleware: its PinoLogger would read a per-request child from its
      // own AsyncLocalStorage, which only that middleware opens; without it, it logs through the logger it was
      // given (the first one in the process, as before for lines logged outside a request), and the mixin of
      // otpLoggerOptions adds the request id from the OTP module's request context: one context per request.
      { provide: Logger, useFactory: (root: Pino) => new Logger(new PinoLogger({ pinoHttp: { logger: root } }), {}), inject: [APP_PINO] },
      { provide: APP_ACCESS_LOG, useFactory: (root: Pino): OtpAccessLog => otpAccessLog(root), inject: [APP_PINO] },
    ],
    exports: [APP_PINO, Logger, APP_ACCESS_LOG],
  };
}
