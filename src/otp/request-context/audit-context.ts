import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

/** Who is asking, for the request being served: enriches events emitted while serving it. */
export interface AuditRequestContext {
  requestId: string;
  ip?: string;
  userAgent?: string;
}

const storage = new AsyncLocalStorage<AuditRequestContext>();

/** The context of the request this code runs for, if any. */
export function currentAuditContext(): AuditRequestContext | undefined {
  return storage.getStore();
}

export function runWithAuditContext<T>(context: AuditRequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

interface RequestLike {
  id?: unknown;
  headers?: Record<string, string | string[] | undefined>;
}

/**
 * The id a request gets as it arrives: its `X-Request-Id` when well formed (1-64 of
 * `A-Za-z0-9._:-`), else a fresh UUID, so nothing unbounded reaches logs or the audit.
 * One rule for every adapter: Fastify hosts pass it as `genReqId` (Fastify's own
 * `req-1`, `req-2`... repeat after every restart and would be taken as the id).
 */
export function otpRequestId(req: { headers?: Record<string, string | string[] | undefined> }): string {
  const given = req.headers?.['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** The request id: the one already given to the request (by `otpRequestId` or pino-http), else `otpRequestId(req)`. */
export function requestIdOf(req: RequestLike): string {
  if (typeof req.id === 'string' && REQUEST_ID.test(req.id)) return req.id;
  if (typeof req.id === 'number') return String(req.id);
  return otpRequestId(req);
}

export interface HttpRequestLike {
  id?: unknown;
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
}

/** The request context of an HTTP request (adapter-neutral: Express and Fastify requests). */
export function auditContextOf(req: HttpRequestLike): AuditRequestContext {
  const ua = req.headers['user-agent'];
  return { requestId: requestIdOf(req), ip: req.ip, userAgent: typeof ua === 'string' ? ua.slice(0, 256) : undefined };
}
