import { ArgumentsHost, Catch } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { OtpExceptionFilter } from '../http-kit/otp-exception.filter';
import { OtpAuditedRoutes } from './audited-route';

/**
 * `OtpExceptionFilter` for `@Audited` routes served without an interceptor: records a pipe's
 * or the handler's error as the route's failure (`OtpAuditedRoutes.failed`), then answers it
 * as `OtpExceptionFilter` does.
 */
@Catch()
export class OtpAuditedExceptionFilter extends OtpExceptionFilter {
  constructor(adapterHost: HttpAdapterHost, private readonly audited: OtpAuditedRoutes) {
    super(adapterHost);
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() === 'http') this.audited.failed(host.switchToHttp().getRequest(), exception);
    super.catch(exception, host);
  }
}
