import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable, tap } from 'rxjs';
import { OtpEventBus } from '../events/otp-event-bus';
import { auditContextOf, currentAuditContext, HttpRequestLike, runWithAuditContext } from '../request-context/audit-context';
import { auditedRouteOf, auditOutcomeOf } from './audited-route';

/**
 * Records the HTTP outcome of `@Audited` routes and runs the handler inside the
 * request's audit context, so every bus event emitted while serving it carries
 * the request id, client IP and user agent. When `OtpAuditContextMiddleware`
 * already opened the context (the usual case), the handler runs in it as it is:
 * no extra Observable and no second `AsyncLocalStorage.run` per request.
 */
@Injectable()
export class OtpAuditInterceptor implements NestInterceptor {
  constructor(private readonly bus: OtpEventBus) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<HttpRequestLike>();
    const route = auditedRouteOf(context.getHandler(), context.getClass());
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
        error: (err: unknown) => emit('failure', auditOutcomeOf(err)),
      }),
    );
    if (opened) return handled;
    return new Observable((subscriber) => runWithAuditContext(ctx, () => handled.subscribe(subscriber)));
  }
}
