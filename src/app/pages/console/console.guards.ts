import { applyDecorators, CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, NotFoundException, SetMetadata, UnauthorizedException, UseGuards } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { OTP_OPERATOR_ROUTE, OtpRateLimited, OtpThrottlerGuard } from 'nestjs-email-otp';
import { PageQueryGuard } from '../page-query.guard';
import { consoleSessionIds } from './console-cookie';
import { CONSOLE_HEADERS } from './console-headers';
import { ConsoleSession, ConsoleSessionStore, constantTimeEqual } from './console-session.store';
import { CONSOLE_SETTINGS, ConsoleSettings } from './console.settings';

export { CONSOLE_CSP } from './console-headers';

type ConsoleRequest = { method?: string; headers: Record<string, unknown>; consoleSession?: ConsoleSession; consoleSessionId?: string };

const notFound = () => new NotFoundException({ error: 'not_found', message: 'Not found.' });

/**
 * First guard of every console route: its headers again, for an app that was not set up by
 * `configureHttp` (which sets them on every answer under `/admin`, before any global guard).
 */
@Injectable()
export class ConsoleHeadersGuard implements CanActivate {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  canActivate(context: ExecutionContext): boolean {
    const http = this.adapterHost.httpAdapter;
    const res = context.switchToHttp().getResponse();
    for (const [name, value] of Object.entries(CONSOLE_HEADERS)) http.setHeader(res, name, value);
    return true;
  }
}

/** Without `OTP_ADMIN_TOKEN` the console does not exist: 404, like the other operator routes. */
@Injectable()
export class ConsoleEnabledGuard implements CanActivate {
  constructor(@Inject(CONSOLE_SETTINGS) private readonly settings: ConsoleSettings) {}

  canActivate(): boolean {
    if (!this.settings.adminToken) throw notFound();
    return true;
  }
}

/**
 * A live session (401 without one) and, on every method but GET and HEAD, its CSRF token in
 * `X-CSRF-Token`, compared in constant time (403 when missing or wrong, before the handler runs).
 */
@Injectable()
export class ConsoleSessionGuard implements CanActivate {
  constructor(
    private readonly sessions: ConsoleSessionStore,
    @Inject(CONSOLE_SETTINGS) private readonly settings: ConsoleSettings,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<ConsoleRequest>();
    const { id, session } = this.sessions.live(consoleSessionIds(req.headers.cookie, this.settings.secureCookie)) ?? {};
    if (!session) throw new UnauthorizedException({ error: 'unauthorized', message: 'Sign in to the operator console first.' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const given = req.headers['x-csrf-token'];
      if (typeof given !== 'string' || !constantTimeEqual(given, session.csrfToken)) {
        throw new ForbiddenException({ error: 'forbidden', message: 'The request lacks this session’s CSRF token.' });
      }
    }
    req.consoleSession = session;
    req.consoleSessionId = id;
    return true;
  }
}

/**
 * A console route: an operator route (with `OPERATOR_PORT`, served on the operator listener
 * only), its headers first, then (unless `throttled: false`) the `operator` throttler, counted
 * before any authentication, then the enabled check and, with `session`, the session guard.
 */
export function ConsoleRoute(opts: { session: boolean; throttled?: boolean }): ClassDecorator & MethodDecorator {
  const guards = [
    ConsoleHeadersGuard,
    PageQueryGuard,
    ...(opts.throttled === false ? [] : [OtpThrottlerGuard]),
    ConsoleEnabledGuard,
    ...(opts.session ? [ConsoleSessionGuard] : []),
  ];
  return applyDecorators(SetMetadata(OTP_OPERATOR_ROUTE, true), OtpRateLimited('operator'), UseGuards(...guards));
}

export type { ConsoleRequest };
