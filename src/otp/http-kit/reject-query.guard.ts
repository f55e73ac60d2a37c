import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { otpHttpException } from '../core/otp-error.http';
import { OtpError } from '../core/otp.errors';

/**
 * OTP routes take no query string: a code there would be written to access
 * logs, proxies and browser history. Any query is refused before anything runs.
 */
@Injectable()
export class RejectQueryGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ url?: string; originalUrl?: string }>();
    const url = req.originalUrl ?? req.url ?? '';
    if (url.includes('?')) throw otpHttpException(new OtpError('otp.query_not_allowed'));
    return true;
  }
}
