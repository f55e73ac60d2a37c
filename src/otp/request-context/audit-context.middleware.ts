import { Injectable, NestMiddleware } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import { auditContextOf, HttpRequestLike, runWithAuditContext } from './audit-context';

/**
 * Opens the audit context as early as possible (before guards such as the
 * throttler run), so their events carry the request id, IP and user agent too.
 * On Express it is a Nest middleware; on Fastify, `openAuditContextOnFastify`.
 */
@Injectable()
export class OtpAuditContextMiddleware implements NestMiddleware {
  use(req: HttpRequestLike, _res: unknown, next: () => void): void {
    const ctx = auditContextOf(req);
    if (req.id === undefined) req.id = ctx.requestId;
    runWithAuditContext(ctx, next);
  }
}

/** The part of a Fastify instance the hook needs (Fastify is an optional peer: no import of its types). */
interface FastifyHooks {
  addHook(name: 'onRequest', hook: (req: HttpRequestLike, reply: unknown, done: () => void) => void): unknown;
}

/**
 * On Fastify, opens the context in an `onRequest` hook of the app's instance rather than as a Nest
 * middleware: no trip through @fastify/middie and Nest's path matching on every request, and it holds
 * when the host turned Nest middleware off (`skipMiddie`). Hooks run in the order they were added, so
 * it runs after the adapter's own hooks, middie (the host's Nest middleware) and the hooks `main.ts`
 * added before `init()`, and before routing's guards. Returns false on any other adapter.
 */
export function openAuditContextOnFastify(adapter: AbstractHttpAdapter | undefined): boolean {
  if (adapter?.getType() !== 'fastify') return false;
  adapter.getInstance<FastifyHooks>().addHook('onRequest', (req, _reply, done) => {
    runWithAuditContext(auditContextOf(req), done);
  });
  return true;
}
