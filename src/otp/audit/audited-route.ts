import { createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { OtpEventBus } from '../events/otp-event-bus';
import { errorAnswerOf } from '../http-kit/otp-exception.filter';
import {
  AuditRequestContext,
  auditContextOf,
  currentAuditContext,
  HttpRequestLike,
  runWithAuditContext,
} from '../request-context/audit-context';
import { AUDITED_ACTION } from './audited.decorator';

/** The status the client gets for `err` (as `OtpExceptionFilter` answers it, `errorAnswerOf`) and the code to record. */
export function auditOutcomeOf(err: unknown): { status: number; error: string } {
  const { status, audit } = errorAnswerOf(err);
  return { status, error: audit };
}

/** What recording a route's outcome needs of its handler, read once per handler rather than per request. */
export interface AuditedRoute {
  action: string | undefined;
  successStatus: number;
}

/** By controller class, then handler (a class-level `@Audited` may differ between controllers sharing a handler). */
const routes = new WeakMap<object, WeakMap<object, AuditedRoute>>();

/** `@Audited` of the handler, else of its class (as `Reflector.getAllAndOverride`), and its `@HttpCode`. */
export function auditedRouteOf(handler: object, controller: object): AuditedRoute {
  let byHandler = routes.get(controller);
  if (!byHandler) routes.set(controller, (byHandler = new WeakMap()));
  let route = byHandler.get(handler);
  if (!route) {
    route = {
      action: Reflect.getMetadata(AUDITED_ACTION, handler) ?? Reflect.getMetadata(AUDITED_ACTION, controller),
      successStatus: Reflect.getMetadata(HTTP_CODE_METADATA, handler) ?? 200,
    };
    byHandler.set(handler, route);
  }
  return route;
}

/** One request of an `@Audited` route: where its outcome goes, recorded once. */
export interface AuditScope extends AuditedRoute {
  ctx: AuditRequestContext;
  /** The context was already open (the middleware's): the handler runs in it as it is. */
  opened: boolean;
  recorded: boolean;
}

const AUDIT_SCOPE = Symbol('otp.audit-scope');
type ScopedRequest = HttpRequestLike & { [AUDIT_SCOPE]?: AuditScope };

/**
 * The audit scope of the request, as a handler parameter. Nest resolves parameters once the
 * guards let the request through and before any pipe runs, which is where an interceptor
 * would start: from here on, a pipe's refusal or the handler's error is the route's failure
 * (`OtpAuditedRoutes.failed`, from the route's exception filter), its answer its success
 * (`OtpAuditedRoutes.run`). A guard's refusal is not the route's outcome, as before.
 */
export const AuditScopeOf = createParamDecorator((_data: unknown, context: ExecutionContext): AuditScope => {
  const req = context.switchToHttp().getRequest<ScopedRequest>();
  const opened = currentAuditContext();
  const ctx = opened ?? auditContextOf(req);
  // The adapter's `ip` (trusted-proxy aware) wins over what the middleware saw.
  if (req.ip) ctx.ip = req.ip;
  const scope: AuditScope = { ...auditedRouteOf(context.getHandler(), context.getClass()), ctx, opened: opened !== undefined, recorded: false };
  req[AUDIT_SCOPE] = scope;
  return scope;
});

/**
 * Records the HTTP outcome of `@Audited` routes without an interceptor (Nest's interceptor
 * machinery, rxjs and `AsyncResource.bind`, costs about 60 µs a request on Node 20): the
 * same event, `{ name: action, outcome, requestId, detail: { status } | { status, error } }`,
 * at the same moment, in the request's audit context.
 */
@Injectable()
export class OtpAuditedRoutes {
  constructor(private readonly bus: OtpEventBus) {}

  /** Runs the handler's work in the request's context and records its success. */
  async run<T>(scope: AuditScope, work: () => Promise<T>): Promise<T> {
    const go = async (): Promise<T> => {
      const out = await work();
      this.record(scope, 'success', { status: scope.successStatus });
      return out;
    };
    return scope.opened ? go() : runWithAuditContext(scope.ctx, go);
  }

  /** Records `err` as the route's failure when it came after the guards (the request has a scope). */
  failed(req: unknown, err: unknown): void {
    const scope = (req as ScopedRequest | undefined)?.[AUDIT_SCOPE];
    if (scope) this.record(scope, 'failure', auditOutcomeOf(err));
  }

  private record(scope: AuditScope, outcome: 'success' | 'failure', detail: Record<string, string | number>): void {
    if (scope.recorded) return;
    scope.recorded = true;
    const action = scope.action;
    if (!action) return;
    const send = () => this.bus.emit({ name: action, outcome, requestId: scope.ctx.requestId, detail });
    if (currentAuditContext() === scope.ctx) send();
    else runWithAuditContext(scope.ctx, send);
  }
}
