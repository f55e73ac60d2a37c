import {
  BadRequestException,
  HttpException,
  HttpExceptionOptions,
  HttpStatus,
  InternalServerErrorException,
  NotFoundException,
  ServiceUnavailableException,
  UnauthorizedException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { OtpError, OtpErrorCode } from './otp.errors';

/** The one JSON shape of every error answer: `{ error, message }` (plus `details` for validation). */
export interface OtpErrorBody {
  error: string;
  message: string;
  details?: string[];
}

/** What the client gets for an `OtpError`. */
export interface OtpHttpAnswer {
  status: number;
  body: OtpErrorBody;
  /** Response headers the answer needs (`Retry-After` when a retry can succeed later). */
  headers: Record<string, string>;
}

/** Status and body `error` of every code: the only table of them (the filter, guards and audit read it). */
const HTTP: Record<OtpErrorCode, { status: HttpStatus; error: string }> = {
  'otp.invalid': { status: HttpStatus.UNAUTHORIZED, error: 'otp_invalid' },
  'otp.throttled': { status: HttpStatus.TOO_MANY_REQUESTS, error: 'otp_throttled' },
  'otp.purpose_unknown': { status: HttpStatus.BAD_REQUEST, error: 'otp_purpose_unknown' },
  'otp.context_invalid': { status: HttpStatus.BAD_REQUEST, error: 'otp_context_invalid' },
  'otp.email_invalid': { status: HttpStatus.BAD_REQUEST, error: 'otp_email_invalid' },
  'otp.config_invalid': { status: HttpStatus.INTERNAL_SERVER_ERROR, error: 'otp_config_invalid' },
  'otp.required': { status: HttpStatus.UNAUTHORIZED, error: 'otp_required' },
  'otp.unavailable': { status: HttpStatus.SERVICE_UNAVAILABLE, error: 'otp_unavailable' },
  'otp.query_not_allowed': { status: HttpStatus.BAD_REQUEST, error: 'query_not_allowed' },
  'otp.unsupported_media_type': { status: HttpStatus.UNSUPPORTED_MEDIA_TYPE, error: 'unsupported_media_type' },
  'otp.operator_unauthorized': { status: HttpStatus.UNAUTHORIZED, error: 'unauthorized' },
  'otp.not_found': { status: HttpStatus.NOT_FOUND, error: 'not_found' },
};

/**
 * Turns an `OtpError` into what the client gets: status, `{ error, message }` body
 * (the public message, never the error's detail) and headers. The only place an
 * OTP error meets HTTP.
 */
export function otpErrorToHttp(err: OtpError): OtpHttpAnswer {
  const { status, error } = HTTP[err.code];
  const headers: Record<string, string> = err.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(err.retryAfterSeconds) };
  return { status, body: { error, message: err.publicMessage }, headers };
}

type NestHttpException = new (body: object, options: HttpExceptionOptions) => HttpException;

/** Nest's own class for each status, so host filters that test for one keep working. */
const EXCEPTIONS: Partial<Record<number, NestHttpException>> = {
  [HttpStatus.BAD_REQUEST]: BadRequestException,
  [HttpStatus.UNAUTHORIZED]: UnauthorizedException,
  [HttpStatus.NOT_FOUND]: NotFoundException,
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: UnsupportedMediaTypeException,
  [HttpStatus.INTERNAL_SERVER_ERROR]: InternalServerErrorException,
  [HttpStatus.SERVICE_UNAVAILABLE]: ServiceUnavailableException,
};

/**
 * The Nest HTTP exception a guard or decorator throws for `err`: its response is
 * `otpErrorToHttp(err).body`, so any exception filter answers the same bytes, and
 * `err` rides along as `cause` for `OtpExceptionFilter` to add the headers.
 */
export function otpHttpException(err: OtpError): HttpException {
  const { status, body } = otpErrorToHttp(err);
  const Exception = EXCEPTIONS[status];
  return Exception ? new Exception(body, { cause: err }) : new HttpException(body, status, { cause: err });
}

/** The `OtpError` behind an exception: thrown as it is, or wrapped by `otpHttpException`. */
export function otpErrorOf(exception: unknown): OtpError | undefined {
  if (exception instanceof OtpError) return exception;
  if (exception instanceof HttpException && exception.cause instanceof OtpError) return exception.cause;
  return undefined;
}
