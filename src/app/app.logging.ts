import { DynamicModule, RequestMethod } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { otpPinoHttpParams } from 'nestjs-email-otp';

/**
 * Structured JSON logs for the example app (nestjs-pino), with the OTP module's
 * central redaction. `LOG_LEVEL` (default `info`), `LOG_FORMAT=pretty` for
 * human-readable output in development only.
 */
export function loggingModule(env: NodeJS.ProcessEnv, destination?: DestinationStream): DynamicModule {
  return LoggerModule.forRoot({
    pinoHttp: otpPinoHttpParams({ level: env.LOG_LEVEL, format: env.LOG_FORMAT }, destination),
    // Health probes and scrapes would drown everything else.
    exclude: [{ path: 'health', method: RequestMethod.GET }, { path: 'metrics', method: RequestMethod.GET }],
  });
}
