import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { QueryFailedError } from 'typeorm';
import { OtpErrorBody, otpErrorOf, otpErrorToHttp } from '../core/otp-error.http';
import { OtpError, OtpUnavailableError } from '../core/otp.errors';
import { isDatabaseUnavailable } from '../core/database-unavailable';

/** A 415 from the body parser or a host's exception: the same answer as `JsonBodyGuard`'s. */
const UNSUPPORTED_MEDIA_TYPE = otpErrorToHttp(new OtpError('otp.unsupported_media_type')).body;

export type { OtpErrorBody };

/** What the client gets for an error, and what the audit and the log say of it. */
export interface ErrorAnswer {
  status: number;
  body: OtpErrorBody;
  headers?: Record<string, string>;
  /**
   * The audit's name for it (an `@Audited` route's failure `detail.error`): the `OtpError`'s code (an outage is
   * `otp.unavailable`, as answered), `data_exception` for a value the database could not take, `http` for other
   * HTTP errors (the router's, a pipe's, the body parser's), `internal` for anything else.
   */
  audit: string;
  /** The line to log (never request data), when the error is worth one. */
  log?: string;
}

/**
 * The SQLSTATE of a query the database refused for a value it cannot take (class 22, data
 * exception: a date out of range, a malformed number), which only a client's input causes.
 */
function dataExceptionCode(exception: unknown): string | undefined {
  if (!(exception instanceof QueryFailedError)) return undefined;
  const code = String((exception.driverError as { code?: unknown } | undefined)?.code ?? '');
  return /^22[0-9A-Z]{3}$/.test(code) ? code : undefined;
}

function httpErrorName(status: number): string {
  const names: Record<number, string> = {
    400: 'bad_request',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'not_found',
    405: 'method_not_allowed',
    413: 'payload_too_large',
    415: 'unsupported_media_type',
    429: 'too_many_requests',
  };
  return names[status] ?? (status >= 500 ? 'internal_error' : 'request_error');
}

/**
 * The message of a 4xx whose body is not in our shape (the router's, a pipe's, a host's):
 * fixed, since theirs may quote the request (`Failed to decode param '%E0%A4%A'`, `Cannot GET /path`).
 */
function fixedMessage(status: number): string {
  const messages: Record<number, string> = {
    400: 'The request is not valid.',
    401: 'Authentication is required.',
    403: 'Forbidden.',
    404: 'Not found.',
    405: 'Method not allowed.',
    414: 'The request URI is too long.',
    429: 'Too many requests. Try again later.',
  };
  return messages[status] ?? 'The request was refused.';
}

/**
 * What the client gets for any error, decided once: the filter answers it, and an `@Audited` route's failure
 * records its status (`auditOutcomeOf`), so the trail says what the client was told. An `OtpError` (thrown as is
 * or wrapped by a guard) as `otpErrorToHttp` maps it, other HTTP exceptions by status, a database outage as
 * 503 `otp_unavailable`, a value the database could not take as 400; anything unexpected is a bare 500.
 */
export function errorAnswerOf(exception: unknown): ErrorAnswer {
  const otpError = otpErrorOf(exception);
  if (otpError) {
    const answer = otpErrorToHttp(otpError);
    return { ...answer, audit: otpError.code, log: answer.status === 500 ? `configuration error: ${otpError.message}` : undefined };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const res = exception.getResponse();
    if (typeof res === 'object' && res !== null && typeof (res as OtpErrorBody).error === 'string' && status < 500
      && /^[a-z_]+$/.test((res as OtpErrorBody).error)) {
      // Already in our shape (a request-shape refusal, or a host error such as the example app's AppError).
      return { status, body: res as OtpErrorBody, audit: 'http' };
    }
    const message = (res as { message?: unknown })?.message;
    if (status === HttpStatus.BAD_REQUEST && Array.isArray(message)) {
      return {
        status,
        body: { error: 'validation_failed', message: 'The request is not valid.', details: message.map(String).slice(0, 20) },
        audit: 'http',
      };
    }
    if (status >= 500) return { status, body: { error: 'internal_error', message: 'Internal error.' }, audit: 'http', log: `HTTP ${status}: ${exception.name}` };
    if (status === HttpStatus.PAYLOAD_TOO_LARGE) return { status, body: { error: 'payload_too_large', message: 'The request body is too large.' }, audit: 'http' };
    if (status === HttpStatus.UNSUPPORTED_MEDIA_TYPE) return { status, body: UNSUPPORTED_MEDIA_TYPE, audit: 'http' };
    return { status, body: { error: httpErrorName(status), message: fixedMessage(status) }, audit: 'http' };
  }
  // Body-parser errors (malformed JSON, too large) arrive as plain errors with a status.
  const parserStatus = (exception as { status?: unknown; statusCode?: unknown })?.status ?? (exception as { statusCode?: unknown })?.statusCode;
  if (typeof parserStatus === 'number' && parserStatus >= 400 && parserStatus < 500) {
    return {
      status: parserStatus,
      body: {
        error: httpErrorName(parserStatus),
        message: parserStatus === 413 ? 'The request body is too large.' : parserStatus === 415 ? UNSUPPORTED_MEDIA_TYPE.message : 'The request body is not valid JSON.',
      },
      audit: 'http',
    };
  }
  if (isDatabaseUnavailable(exception)) {
    // An outage is not a bug: the client is told to come back, and the log names the class only.
    const unavailable = new OtpUnavailableError();
    return { ...otpErrorToHttp(unavailable), audit: unavailable.code, log: 'database unavailable: answered 503 otp_unavailable' };
  }
  const sqlState = dataExceptionCode(exception);
  if (sqlState) {
    // Its message quotes the value refused (the client's input): the log names the class and code only.
    return {
      status: 400,
      body: { error: 'bad_request', message: 'The request is not valid.' },
      audit: 'data_exception',
      log: `data exception: ${(exception as Error).name} ${sqlState}`,
    };
  }
  return {
    status: 500,
    body: { error: 'internal_error', message: 'Internal error.' },
    audit: 'internal',
    log: `unexpected error: ${exception instanceof Error ? exception.name + ': ' + exception.message : 'unknown'}`,
  };
}

/**
 * Answers every error in the `{ error, message }` shape, as `errorAnswerOf` decides. Never echoes
 * internals: anything unexpected becomes a bare 500 and is logged without request data.
 */
@Catch()
export class OtpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('OtpExceptionFilter');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const { status, body, headers = {} } = this.describe(exception);
    const http = this.adapterHost.httpAdapter;
    const response = ctx.getResponse();
    http.setHeader(response, 'Cache-Control', 'no-store');
    // A route's own type (`@Header('Content-Type', ...)`, set before its pipes run) must not label the error body.
    http.setHeader(response, 'Content-Type', 'application/json; charset=utf-8');
    for (const [name, value] of Object.entries(headers)) http.setHeader(response, name, value);
    http.reply(response, body, status);
  }

  private describe(exception: unknown): ErrorAnswer {
    const answer = errorAnswerOf(exception);
    if (answer.log) this.logger.error(answer.log);
    return answer;
  }
}

