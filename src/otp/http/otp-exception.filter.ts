import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { OtpError, OtpErrorCode } from '../otp.errors';

const STATUS: Record<OtpErrorCode, number> = {
  'otp.invalid': HttpStatus.UNAUTHORIZED,
  'otp.throttled': HttpStatus.TOO_MANY_REQUESTS,
  'otp.purpose_unknown': HttpStatus.BAD_REQUEST,
  'otp.context_invalid': HttpStatus.BAD_REQUEST,
  'otp.email_invalid': HttpStatus.BAD_REQUEST,
  'otp.config_invalid': HttpStatus.INTERNAL_SERVER_ERROR,
  'otp.required': HttpStatus.UNAUTHORIZED,
  'otp.unavailable': HttpStatus.SERVICE_UNAVAILABLE,
};

const UNSUPPORTED_MEDIA_TYPE = 'Send the request body as application/json.';

/** The one JSON shape of every error answer: `{ error, message }` (plus `details` for validation). */
export interface OtpErrorBody {
  error: string;
  message: string;
  details?: string[];
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
 * Maps domain errors to HTTP in one place. Never echoes internals: anything
 * unexpected becomes a bare 500 and is logged without request data.
 */
@Catch()
export class OtpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('OtpExceptionFilter');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const { status, body, retryAfter } = this.describe(exception);
    const http = this.adapterHost.httpAdapter;
    const response = ctx.getResponse();
    http.setHeader(response, 'Cache-Control', 'no-store');
    if (retryAfter !== undefined) http.setHeader(response, 'Retry-After', String(retryAfter));
    http.reply(response, body, status);
  }

  private describe(exception: unknown): { status: number; body: OtpErrorBody; retryAfter?: number } {
    if (exception instanceof OtpError) {
      const status = STATUS[exception.code];
      if (status === 500) this.logger.error(`configuration error: ${exception.message}`);
      return {
        status,
        body: { error: exception.code.replace(/\./g, '_'), message: exception.publicMessage },
        retryAfter: exception.retryAfterSeconds,
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const res = exception.getResponse();
      if (typeof res === 'object' && res !== null && typeof (res as OtpErrorBody).error === 'string' && status < 500
        && /^[a-z_]+$/.test((res as OtpErrorBody).error)) {
        // Already in our shape (thrown by our guards).
        return { status, body: res as OtpErrorBody };
      }
      const message = (res as { message?: unknown })?.message;
      if (status === HttpStatus.BAD_REQUEST && Array.isArray(message)) {
        return {
          status,
          body: { error: 'validation_failed', message: 'The request is not valid.', details: message.map(String).slice(0, 20) },
        };
      }
      if (status >= 500) {
        this.logger.error(`HTTP ${status}: ${exception.name}`);
        return { status, body: { error: 'internal_error', message: 'Internal error.' } };
      }
      if (status === HttpStatus.PAYLOAD_TOO_LARGE) return { status, body: { error: 'payload_too_large', message: 'The request body is too large.' } };
      if (status === HttpStatus.UNSUPPORTED_MEDIA_TYPE) return { status, body: { error: 'unsupported_media_type', message: UNSUPPORTED_MEDIA_TYPE } };
      return { status, body: { error: httpErrorName(status), message: typeof message === 'string' ? message : exception.message } };
    }
    // Body-parser errors (malformed JSON, too large) arrive as plain errors with a status.
    const parserStatus = (exception as { status?: unknown; statusCode?: unknown })?.status ?? (exception as { statusCode?: unknown })?.statusCode;
    if (typeof parserStatus === 'number' && parserStatus >= 400 && parserStatus < 500) {
      return {
        status: parserStatus,
        body: {
          error: httpErrorName(parserStatus),
          message: parserStatus === 413 ? 'The request body is too large.' : parserStatus === 415 ? UNSUPPORTED_MEDIA_TYPE : 'The request body is not valid JSON.',
        },
      };
    }
    this.logger.error(`unexpected error: ${exception instanceof Error ? exception.name + ': ' + exception.message : 'unknown'}`);
    return { status: 500, body: { error: 'internal_error', message: 'Internal error.' } };
  }
}
