import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as nestCommon from '@nestjs/common';
import {
  BadRequestException,
  HttpException,
  InternalServerErrorException,
  NotFoundException,
  ServiceUnavailableException,
  UnauthorizedException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { otpErrorOf, otpErrorToHttp, otpHttpException } from './otp-error.http';
import {
  OtpConfigError,
  OtpContextInvalidError,
  OtpEmailInvalidError,
  OtpError,
  OtpErrorCode,
  OtpInvalidError,
  OtpPurposeUnknownError,
  OtpRequestContextInvalidError,
  OtpRequiredError,
  OtpThrottledError,
  OtpUnavailableError,
} from './otp.errors';

interface Expected {
  err: OtpError;
  status: number;
  /** The body bytes clients get today (key order included). */
  json: string;
  headers: Record<string, string>;
  exception: abstract new (...args: never[]) => HttpException;
}

const body = (error: string, message: string) => JSON.stringify({ error, message });

/** Every code (a `Record`, so a new code does not compile until it is listed here). */
const EVERY_CODE: Record<OtpErrorCode, Expected> = {
  'otp.invalid': {
    err: new OtpInvalidError(), status: 401, headers: {}, exception: UnauthorizedException,
    json: body('otp_invalid', 'The code is invalid or has expired. Request a new code.'),
  },
  'otp.throttled': {
    err: new OtpThrottledError(29.2), status: 429, headers: { 'Retry-After': '30' }, exception: HttpException,
    json: body('otp_throttled', 'Too many requests. Try again later.'),
  },
  'otp.purpose_unknown': {
    err: new OtpPurposeUnknownError(), status: 400, headers: {}, exception: BadRequestException,
    json: body('otp_purpose_unknown', 'This purpose is not accepted.'),
  },
  'otp.context_invalid': {
    err: new OtpContextInvalidError('amount: expected a number'), status: 400, headers: {}, exception: BadRequestException,
    json: body('otp_context_invalid', 'The context does not fit this purpose.'),
  },
  'otp.email_invalid': {
    err: new OtpEmailInvalidError(), status: 400, headers: {}, exception: BadRequestException,
    json: body('otp_email_invalid', 'The email address is not accepted.'),
  },
  'otp.config_invalid': {
    err: new OtpConfigError('keys: none configured'), status: 500, headers: {}, exception: InternalServerErrorException,
    json: body('otp_config_invalid', 'The OTP module is misconfigured.'),
  },
  'otp.required': {
    err: new OtpRequiredError('token expired'), status: 401, headers: {}, exception: UnauthorizedException,
    json: body('otp_required', 'This action needs a valid one-time-passcode token. Verify a new code for it.'),
  },
  'otp.unavailable': {
    err: new OtpUnavailableError(), status: 503, headers: { 'Retry-After': '5' }, exception: ServiceUnavailableException,
    json: body('otp_unavailable', 'The service is temporarily unavailable. Try again shortly.'),
  },
  'otp.query_not_allowed': {
    err: new OtpError('otp.query_not_allowed'), status: 400, headers: {}, exception: BadRequestException,
    json: body('query_not_allowed', 'Send parameters in the JSON body, never in the URL.'),
  },
  'otp.unsupported_media_type': {
    err: new OtpError('otp.unsupported_media_type'), status: 415, headers: {}, exception: UnsupportedMediaTypeException,
    json: body('unsupported_media_type', 'Send the request body as application/json.'),
  },
  'otp.operator_unauthorized': {
    err: new OtpError('otp.operator_unauthorized'), status: 401, headers: {}, exception: UnauthorizedException,
    json: body('unauthorized', 'A valid operator token is required.'),
  },
  'otp.not_found': {
    err: new OtpError('otp.not_found'), status: 404, headers: {}, exception: NotFoundException,
    json: body('not_found', 'Not found.'),
  },
};

describe('otpErrorToHttp', () => {
  it.each(Object.entries(EVERY_CODE))('%s: status, body bytes and headers as clients get them', (code, expected) => {
    expect(expected.err.code).toBe(code);
    const answer = otpErrorToHttp(expected.err);
    expect(answer.status).toBe(expected.status);
    expect(JSON.stringify(answer.body)).toBe(expected.json);
    expect(answer.headers).toEqual(expected.headers);
    // The detail an error carries for logs never reaches the body.
    if (expected.err.message !== expected.err.publicMessage) expect(JSON.stringify(answer.body)).not.toContain(expected.err.message);
  });

  it.each(Object.entries(EVERY_CODE))('%s: otpHttpException is the Nest exception of that status with the same body, and unwraps to the error', (_code, expected) => {
    const exception = otpHttpException(expected.err);
    expect(exception).toBeInstanceOf(expected.exception);
    expect(exception.getStatus()).toBe(expected.status);
    expect(JSON.stringify(exception.getResponse())).toBe(expected.json);
    expect(otpErrorOf(exception)).toBe(expected.err);
    expect(otpErrorOf(expected.err)).toBe(expected.err);
  });

  it("OtpGuard's unreadable route context keeps its own wording under otp_context_invalid", () => {
    expect(otpErrorToHttp(new OtpRequestContextInvalidError())).toEqual({
      status: 400,
      body: { error: 'otp_context_invalid', message: 'The request does not carry the details this action must approve.' },
      headers: {},
    });
  });

  it('finds no OTP error behind other exceptions', () => {
    expect(otpErrorOf(new BadRequestException({ error: 'validation_failed', message: 'x' }))).toBeUndefined();
    expect(otpErrorOf(new UnauthorizedException('x', { cause: new Error('not ours') }))).toBeUndefined();
    expect(otpErrorOf(new Error('boom'))).toBeUndefined();
    expect(otpErrorOf(undefined)).toBeUndefined();
  });
});

const SRC = join(__dirname);
const MAPPING = 'otp-error.http.ts';
/** Nest's HTTP exception classes, read from `@nestjs/common` itself so a new one is covered too. */
const NEST_HTTP_EXCEPTIONS = Object.entries(nestCommon)
  .filter(([, value]) => typeof value === 'function' && (value === HttpException || value.prototype instanceof HttpException))
  .map(([name]) => name);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/**
 * Every `new <Nest HTTP exception>(…)` and `extends <Nest HTTP exception>` in `source` that
 * could be an OTP error: anything but a bare one or a request-shape refusal (`validation_failed`,
 * the validation pipe's answer, which no OtpError code stands for).
 */
function otpHttpErrorsBuilt(source: string): string[] {
  const names = NEST_HTTP_EXCEPTIONS.join('|');
  const sites = source.match(new RegExp(`(new\\s+(${names})\\s*\\([^\\n]*|extends\\s+(${names})\\b[^\\n]*)`, 'g')) ?? [];
  return sites.filter((site) => !/^new\s+\w+\(\s*\)/.test(site) && !/^new\s+\w+\(\s*\{\s*error:\s*'validation_failed'/.test(site));
}

describe('OTP errors meet HTTP only in otp-error.http.ts', () => {
  it('the check finds an OTP error body built by hand, and a bespoke exception class', () => {
    expect(NEST_HTTP_EXCEPTIONS).toEqual(expect.arrayContaining(['HttpException', 'UnauthorizedException', 'ServiceUnavailableException']));
    expect(otpHttpErrorsBuilt(`throw new UnauthorizedException({ error: 'otp_required', message: 'm' });`)).toHaveLength(1);
    expect(otpHttpErrorsBuilt(`return new HttpException({ error: 'unauthorized' }, 401);`)).toHaveLength(1);
    expect(otpHttpErrorsBuilt(`class OtpHttp extends ServiceUnavailableException {}`)).toHaveLength(1);
    expect(otpHttpErrorsBuilt(`throw new BadRequestException({ error: 'validation_failed', message: 'm' });`)).toEqual([]);
  });

  it('no file of src/otp other than the mapping constructs a Nest HTTP exception for an OTP error', () => {
    const offenders = sourceFiles(SRC)
      .filter((file) => relative(SRC, file) !== MAPPING)
      .flatMap((file) => otpHttpErrorsBuilt(readFileSync(file, 'utf8')).map((site) => `${relative(SRC, file)}: ${site.trim()}`));
    expect(offenders).toEqual([]);
  });
});
