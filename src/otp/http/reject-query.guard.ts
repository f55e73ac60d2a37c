import { BadRequestException, CanActivate, ExecutionContext, Injectable } from '@nestjs/common';

/**
 * OTP routes take no query string: a code there would be written to access
 * logs, proxies and browser history. Any query is refused before anything runs.
 */
@Injectable()
export class RejectQueryGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ url?: string; originalUrl?: string }>();
    const url = req.originalUrl ?? req.url ?? '';
    if (url.includes('?')) {
      throw new BadRequestException({ error: 'query_not_allowed', message: 'Send parameters in the JSON body, never in the URL.' });
    }
    return true;
  }
}
