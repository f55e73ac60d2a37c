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
 * The request id: one already given to the request (pino-http, Fastify), else a
 * well-formed `X-Request-Id` from the caller, else a fresh UUID. Ill-formed
 * incoming ids are ignored, so nothing unbounded reaches logs or the audit.
 */
export function requestIdOf(req: RequestLike): string {
  if (typeof req.id === 'string' && REQUEST_ID.test(req.id)) return req.id;
  if (typeof req.id === 'number') return String(req.id);
  const given = req.headers?.['x-request-id'];
  if (typeof given === 'string' && REQUEST_ID.test(given)) return given;
  return randomUUID();
}
