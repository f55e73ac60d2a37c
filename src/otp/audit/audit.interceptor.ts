import { CallHandler, ExecutionContext, HttpException, Injectable, NestInterceptor } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { Observable, tap } from 'rxjs';
import { OtpEventBus } from '../events/otp-event-bus';
import { OtpError } from '../otp.errors';
import { AuditRequestContext, currentAuditContext, requestIdOf, runWithAuditContext } from './audit-context';
import { AUDITED_ACTION } from './audited.decorator';

interface HttpRequestLike {
  id?: unknown;
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
}

/** The request context of an HTTP request (adapter-neutral: Express and Fastify requests). */
export function auditContextOf(req: HttpRequestLike): AuditRequestContext {
  const ua = req.headers['user-agent'];
  return { requestId: requestIdOf(req), ip: req.ip, userAgent: typeof ua === 'string' ? ua.slice(0, 256) : undefined };
}

function statusOf(err: unknown): number {
  if (err instanceof HttpException) return err.getStatus();
  if (err instanceof OtpError) return err.code === 'otp.throttled' ? 429 : err.code === 'otp.invalid' ? 401 : 400;
  return 500;
}

/**
 * Records the HTTP outcome of `@Audited` routes and runs the handler inside the
 * request's audit context, so every bus event emitted while serving it carries
 * the request id, client IP and user agent.
 */
@Injectable()
export class OtpAuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly bus: OtpEventBus,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<HttpRequestLike>();
    const action = this.reflector.getAllAndOverride<string | undefined>(AUDITED_ACTION, [context.getHandler(), context.getClass()]);
    // The middleware may have opened the context already; the adapter's `ip` (trusted-proxy aware) wins.
    const ctx = currentAuditContext() ?? auditContextOf(req);
    if (req.ip) ctx.ip = req.ip;
    const emit = (outcome: 'success' | 'failure', detail: Record<string, string | number>) => {
      if (action) runWithAuditContext(ctx, () => this.bus.emit({ name: action, outcome, requestId: ctx.requestId, detail }));
    };
    return new Observable((subscriber) =>
      runWithAuditContext(ctx, () =>
        next
          .handle()
          .pipe(
            tap({
              next: () => emit('success', { status: this.reflector.get<number>(HTTP_CODE_METADATA, context.getHandler()) ?? 200 }),
              error: (err: unknown) =>
                emit('failure', { status: statusOf(err), error: err instanceof OtpError ? err.code : err instanceof HttpException ? 'http' : 'internal' }),
            }),
          )
          .subscribe(subscriber),
      ),
    );
  }
}
