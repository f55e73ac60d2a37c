import { SetMetadata } from '@nestjs/common';

/** Which OTP operation a route performs; selects the throttlers that apply to it. */
export type OtpRateLimitScope = 'issue' | 'resend' | 'verify' | 'operator';

export const OTP_RATE_LIMIT_SCOPE = 'otp:rate-limit-scope';

/** Marks a route for `OtpThrottlerGuard`; routes without it are not limited by the guard. */
export const OtpRateLimited = (scope: OtpRateLimitScope): MethodDecorator & ClassDecorator =>
  SetMetadata(OTP_RATE_LIMIT_SCOPE, scope);
