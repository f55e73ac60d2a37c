import { CallHandler, ExecutionContext, HttpException, Injectable, NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { Observable, tap } from 'rxjs';
import { OtpEventBus } from '../events/otp-event-bus';
import { otpErrorOf, otpErrorToHttp } from '../core/otp-error.http';
import { auditContextOf, currentAuditContext, HttpRequestLike, runWithAuditContext } from '../request-context/audit-context';
import { AUDITED_ACTION } from './audited.decorator';

/** The status the client gets for `err` (as `OtpExceptionFilter` answers it) and the code to record. */
function outcomeOf(err: unknown): { status: number; error: string } {
  const otpError = otpErrorOf(err);
  if (otpError) return { status: otpErrorToHttp(otpError).status, error: otpError.code };
  if (err instanceof HttpException) return { status: err.getStatus(), error: 'http' };
  return { status: 500, error: 'internal' };
}

/** What the interceptor needs of a handler, read once per handler rather than per request. */
interface AuditedRoute {
  action: string | undefined;
  successStatus: number;
}

/**
 * Records the HTTP outcome of `@Audited` routes and runs the handler inside the
 * request's audit context, so every bus event emitted while serving it carries
 * the request id, client IP and user agent. When `OtpAuditContextMiddleware`
 * already opened the context (the usual case), the handler runs in it as it is:
 * no extra Observable and no second `AsyncLocalStorage.run` per request.
 */
@Injectable()
export class OtpAuditInterceptor implements NestInterceptor {
  /** By controller class, then handler (a class-level `@Audited` may differ between controllers sharing a handler). */
  private readonly routes = new WeakMap<object, WeakMap<object, AuditedRoute>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly bus: OtpEventBus,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<HttpRequestLike>();
    const route = this.routeOf(context);
    // The middleware may have opened the context already; the adapter's `ip` (trusted-proxy aware) wins.
    const opened = currentAuditContext();
    const ctx = opened ?? auditContextOf(req);
    if (req.ip) ctx.ip = req.ip;
    const { action } = route;
    const emit = (outcome: 'success' | 'failure', detail: Record<string, string | number>) => {
      if (!action) return;
      const send = () => this.bus.emit({ name: action, outcome, requestId: ctx.requestId, detail });
      if (currentAuditContext() === ctx) send();
      else runWithAuditContext(ctx, send);
    };
    const handled = next.handle().pipe(
      tap({
        next: () => emit('success', { status: route.successStatus }),
        error: (err: unknown) => emit('failure', outcomeOf(err)),
      }),
    );
    if (opened) return handled;
    return new Observable((subscriber) => runWithAuditContext(ctx, () => handled.subscribe(subscriber)));
  }

  private routeOf(context: ExecutionContext): AuditedRoute {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byHandler = this.routes.get(controller);
    if (!byHandler) this.routes.set(controller, (byHandler = new WeakMap()));
    let route = byHandler.get(handler);
    if (!route) {
      route = {
        action: this.reflector.getAllAndOverride<string | undefined>(AUDITED_ACTION, [handler, controller]),
        successStatus: this.reflector.get<number>(HTTP_CODE_METADATA, handler) ?? 200,
      };
      byHandler.set(handler, route);
    }
    return route;
  }
}
