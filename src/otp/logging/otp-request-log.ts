import type { LoggerOptions } from 'pino';
import { currentAuditContext } from '../request-context/audit-context';
import { otpBaseLoggerOptions, OtpLoggingOptions, OTP_PREMASKED, serializeRequest } from './otp-log-redaction';

/**
 * What `otpLoggerOptions` returns: options for `pino(...)` itself (no pino-http).
 * Declared without pino's types, so a host that does not log through pino compiles without them.
 */
export interface OtpLoggerOptions {
  level: string;
  /** Adds `requestId` to every line logged while a request is served (the module's request context). */
  mixin(): object;
}

/**
 * pino options with the module's central redaction (as `otpPinoHttpOptions`), for one
 * logger shared by every request: instead of a child logger per request, every line logged
 * while the module's request context is open (the `OtpModule` middleware opens it for every
 * route) carries that request's `requestId`. Pair it with `otpAccessLog` for the access line.
 */
export function otpLoggerOptions(o: OtpLoggingOptions = {}): OtpLoggerOptions {
  return {
    ...otpBaseLoggerOptions(o),
    mixin: () => {
      const requestId = currentAuditContext()?.requestId;
      // pino merges the line's own fields into this object: a new one each time.
      return requestId === undefined ? {} : { requestId };
    },
  } as LoggerOptions & OtpLoggerOptions;
}

/** The logger the access line is written to: a pino logger (`child` with options, pino 7 and later). */
export interface OtpAccessLogger {
  info(fields: object, message: string): void;
  // pino types a serializer's argument as `any`: a narrower one would not accept pino's own loggers.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  child?(bindings: object, options: { redact: string[]; serializers?: { [key: string]: (value: any) => unknown } }): OtpAccessLogger;
}

/** Starts the access line of one request (`otpAccessLog`): written when its response ends. */
export type OtpAccessLog = (req: OtpLoggedRequest, res: OtpLoggedResponse, requestId: string) => void;

/** The request as it arrived (Node's `IncomingMessage`, Fastify's `request.raw`). */
export interface OtpLoggedRequest {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  socket?: { remoteAddress?: string } | null;
}

/** The response (Node's `ServerResponse`, Fastify's `reply.raw`). */
export interface OtpLoggedResponse {
  statusCode: number;
  /** Node's: false when the connection closed before the response was sent. */
  writableFinished?: boolean;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * The access line of every request it is given, written once its response has ended (or its
 * connection closed): one line, `msg` "request completed" ("request errored" with an `err`
 * from status 500 on), with `requestId`, `req` (id, method, path without query string, remote
 * address, an allow-list of headers, addresses masked: `serializeRequest`), `res.statusCode`
 * and `responseTime` in ms: the fields pino-http writes with `otpPinoHttpOptions`, built once
 * at the end instead of two child loggers at the start. `logger` is a pino logger made with
 * `otpLoggerOptions` (any pino logger works: the request is serialized here, not by the logger).
 *
 * Every field of the line is the module's own serialization (the allow-list of headers holds
 * no credential; values masked; the error's message and stack masked), so the line is written
 * through a child without the redaction paths, which could match nothing in it (R37: a test
 * compares it with the redacted logger's output), and the paths' cost is not paid per request;
 * nor are the logger's `req`/`res` serializers (they would serialize the serialized request
 * again) or the masking hook of `otpLoggerOptions` (the fields are masked already: `OTP_PREMASKED`).
 */
export function otpAccessLog(logger: OtpAccessLogger): OtpAccessLog {
  const same = (value: unknown): unknown => value;
  const access = logger.child?.({}, { redact: [], serializers: { req: same, res: same } }) ?? logger;
  return (req, res, requestId) => {
    const start = Date.now();
    // Serialized here, not by the logger's serializers: the line is safe whatever logger the host gives.
    const seen = serializeRequest({ id: requestId, method: req.method, url: req.url, headers: req.headers, remoteAddress: req.socket?.remoteAddress });
    res.once('close', () => {
      const logged = { [OTP_PREMASKED]: true, requestId, req: seen, res: { statusCode: res.statusCode }, responseTime: Date.now() - start };
      if (res.writableFinished === false) return access.info({ ...logged, err: new Error('request aborted') }, 'request aborted');
      if (res.statusCode < 500) return access.info(logged, 'request completed');
      access.info({ ...logged, err: new Error(`failed with status code ${res.statusCode}`) }, 'request errored');
    });
  };
}
