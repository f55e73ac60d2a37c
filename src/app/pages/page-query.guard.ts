import { BadRequestException, CanActivate, ExecutionContext, Injectable } from '@nestjs/common';

/**
 * Pages take no query string, as the OTP routes take none: a code or an address there would
 * be written to access logs, proxies and browser history. Refused (400) before anything runs.
 */
@Injectable()
export class PageQueryGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ url?: string; originalUrl?: string }>();
    if ((req.originalUrl ?? req.url ?? '').includes('?')) {
      throw new BadRequestException({ error: 'query_not_allowed', message: 'Pages take no parameters in the URL.' });
    }
    return true;
  }
}
