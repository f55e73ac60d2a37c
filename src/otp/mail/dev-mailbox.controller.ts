import { Controller, Get, Inject, NotFoundException, Req, UseFilters, UseInterceptors } from '@nestjs/common';
import { OTP_RESOLVED_OPTIONS } from '../core/otp.module-definition';
import { ResolvedOtpOptions } from '../core/otp-options.interface';
import { NoStoreInterceptor } from '../http-kit/no-store.interceptor';
import { OtpExceptionFilter } from '../http-kit/otp-exception.filter';
import { DevMailboxMailer } from './dev-mailbox.mailer';
import { OtpMailer } from './otp-mailer.port';
import { ClientRequestLike, isLocalClient } from '../net/local-client';

/**
 * `GET /dev/mailbox`: the development mailbox as JSON, newest first. Answers 404
 * in production, when real delivery is configured, and to any client that is not
 * on this machine (the client address as the trusted-proxy settings resolve it; a
 * request with forwarding headers only when that setting resolves it to loopback):
 * a staging host started without NODE_ENV=production must not hand out codes.
 */
@Controller('dev/mailbox')
@UseFilters(OtpExceptionFilter)
@UseInterceptors(NoStoreInterceptor)
export class DevMailboxController {
  constructor(
    @Inject(OTP_RESOLVED_OPTIONS) private readonly options: ResolvedOtpOptions,
    private readonly mailer: OtpMailer,
  ) {}

  @Get()
  list(@Req() req: ClientRequestLike): unknown[] {
    if (this.options.production || !(this.mailer instanceof DevMailboxMailer) || !isLocalClient(req)) throw new NotFoundException();
    return this.mailer.list().map((m) => ({
      challengeId: m.challengeId,
      to: m.to,
      purpose: m.purpose,
      code: m.code,
      locale: m.locale ?? null,
      context: m.context ?? null,
      expiresAt: m.expiresAt.toISOString(),
      receivedAt: m.receivedAt.toISOString(),
    }));
  }
}
