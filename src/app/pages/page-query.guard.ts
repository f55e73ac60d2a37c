import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { OtpError } from 'nestjs-email-otp';

/**
 * Pages and the console take no query string, as the OTP routes take none: a code, a token or
 * an address there would be written to access logs, proxies and browser history. Refused
 * before anything runs with the module's own refusal (`otp.query_not_allowed`: 400
 * `query_not_allowed`, one message for every route).
 */
@Injectable()
export class PageQueryGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ url?: string; originalUrl?: string }>();
    if ((req.originalUrl ?? req.url ?? '').includes('?')) throw new OtpError('otp.query_not_allowed');
    return true;
  }
}
