import { Injectable, NestMiddleware } from '@nestjs/common';
import { auditContextOf, runWithAuditContext } from './audit-context';

/**
 * Opens the audit context as early as possible (before guards such as the
 * throttler run), so their events carry the request id, IP and user agent too.
 */
@Injectable()
export class OtpAuditContextMiddleware implements NestMiddleware {
  use(req: { id?: unknown; ip?: string; headers: Record<string, string | string[] | undefined> }, _res: unknown, next: () => void): void {
    const ctx = auditContextOf(req);
    if (req.id === undefined) req.id = ctx.requestId;
    runWithAuditContext(ctx, next);
  }
}
