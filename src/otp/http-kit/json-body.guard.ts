import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { otpHttpException } from '../core/otp-error.http';
import { OtpError } from '../core/otp.errors';

/** `application/json`, optionally with a UTF-8 charset: nothing else (no `+json` types, no other parameters). */
const JSON_MEDIA_TYPE = /^application\/json[ \t]*(;[ \t]*charset[ \t]*=[ \t]*("utf-8"|utf-8)[ \t]*)?$/i;

interface HeaderRequest {
  headers?: Record<string, string | string[] | undefined>;
}

/**
 * True when the request's body, if any, is declared `application/json`. A request
 * without a body and without a `Content-Type` passes (a body-less POST such as a
 * resend); any declared type other than JSON fails, even on an empty body.
 */
export function isJsonOrEmpty(req: HeaderRequest): boolean {
  const headers = req.headers ?? {};
  const type = headers['content-type'];
  if (type === undefined) {
    const length = headers['content-length'];
    return headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
  }
  return typeof type === 'string' && JSON_MEDIA_TYPE.test(type.trim());
}

/**
 * 415 for a request whose body is not `application/json`. Forms, `text/plain`
 * and multipart are what any web page can make its visitors' browsers send
 * cross-site without a CORS preflight; refusing them keeps every body-taking
 * route out of reach of such pages. Runs before the throttler, so a refused
 * request spends no recipient's budget. Hosts can put it on their own routes
 * (the example app installs it globally).
 */
@Injectable()
export class JsonBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (isJsonOrEmpty(context.switchToHttp().getRequest<HeaderRequest>())) return true;
    throw otpHttpException(new OtpError('otp.unsupported_media_type'));
  }
}
