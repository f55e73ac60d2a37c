import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { OtpRateLimited } from '../rate-limit/otp-rate-limit.decorator';
import { OtpThrottlerGuard } from '../rate-limit/otp-throttler.guard';
import { OtpAdminGuard } from './otp-admin.guard';

/** Metadata key set on every operator route; a host's guard reads it to keep those routes off its public listener (exported). */
export const OTP_OPERATOR_ROUTE = 'otp:operator-route';

/**
 * An operator route of the module (`/metrics`, `/admin/otp/audit/*`): throttled per
 * client IP by the `operator` throttler first, so a client guessing tokens is counted
 * before it is told it failed, then `Authorization: Bearer <audit.adminToken>`.
 */
export const OtpOperatorRoute = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(OTP_OPERATOR_ROUTE, true), OtpRateLimited('operator'), UseGuards(OtpThrottlerGuard, OtpAdminGuard));
