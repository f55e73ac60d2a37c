import { DynamicModule, Global, Module } from '@nestjs/common';
import { Logger, PinoLogger } from 'nestjs-pino';
import pino, { DestinationStream, Logger as Pino, LoggerOptions } from 'pino';
import { OtpAccessLog, otpAccessLog, otpLoggerOptions } from 'nestjs-email-otp';

/** The app's pino logger (one for every request: lines logged while serving one carry its `requestId`). */
export const APP_PINO = Symbol('APP_PINO');
/** Starts a request's access line (`otpAccessLog`); the HTTP helpers call it in their first hook. */
export const APP_ACCESS_LOG = Symbol('APP_ACCESS_LOG');

@Global()
@Module({})
class AppLoggingModule {}

/**
 * Structured JSON logs for the example app (pino, through nestjs-pino's Nest logger), with the
 * OTP module's central redaction. `LOG_LEVEL` (default `info`), `LOG_FORMAT=pretty` for
 * human-readable output in development only. The access line of each request is written by
 * the HTTP helpers' first hook (`APP_ACCESS_LOG`), not by a Nest middleware.
 */
export function loggingModule(env: NodeJS.ProcessEnv, destination?: DestinationStream): DynamicModule {
  // A destination (tests) takes JSON: pino refuses a transport next to a stream.
  const options = otpLoggerOptions({ level: env.LOG_LEVEL, format: destination ? 'json' : env.LOG_FORMAT }) as LoggerOptions;
  return {
    module: AppLoggingModule,
    providers: [
      { provide: APP_PINO, useFactory: () => (destination ? pino(options, destination) : pino(options)) },
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
