import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { OtpEventBus } from '../events/otp-event-bus';
import { otpHttpException } from '../core/otp-error.http';
import { OtpError } from '../core/otp.errors';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Operator routes: `Authorization: Bearer <audit.adminToken>`, compared in constant
 * time (both sides hashed first, so lengths leak nothing). Without a configured
 * token the routes do not exist (404). Every refusal is an `operator.auth_failed`
 * event (IP and user agent from the request context; never the token tried).
 */
@Injectable()
export class OtpAdminGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(
    @Inject(OTP_RESOLVED_OPTIONS) options: { audit: { adminToken?: string } },
    private readonly events: OtpEventBus,
  ) {
    const token = options.audit.adminToken;
    this.expected = token ? digest(token) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) throw otpHttpException(new OtpError('otp.not_found'));
    const req = context.switchToHttp().getRequest<{ headers: Record<string, unknown>; ip?: string }>();
    const header = req.headers.authorization;
    const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!timingSafeEqual(digest(given), this.expected) || given.length === 0) {
      this.events.emit({
        name: 'operator.auth_failed',
        outcome: 'failure',
        ip: req.ip,
        detail: { reason: given.length === 0 ? 'missing' : 'mismatch', route: `${context.getClass().name}.${context.getHandler().name}` },
      });
      throw otpHttpException(new OtpError('otp.operator_unauthorized'));
    }
    return true;
  }
}
