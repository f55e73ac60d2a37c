import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { OtpContext } from '../crypto/canonical';
import { otpHttpException } from '../core/otp-error.http';
import { OtpRequiredError } from '../core/otp.errors';
import type { RedeemedOtpProof } from './otp-token.types';

/** Metadata key written by `@RequireOtp` and read by `OtpGuard`. */
export const REQUIRE_OTP_METADATA = 'otp:require';
/** Where `OtpGuard` leaves the redeemed proof on the request. */
export const OTP_PROOF_REQUEST_KEY = '__otpProof';

type AnyRequest = any;

/** Options of `@RequireOtp`. */
export interface RequireOtpOptions {
  /**
   * The facts the token must approve, taken from the request, for example
   * `(req) => ({ amount: req.body.amount, to: req.body.to })`. The token's context
   * must equal it exactly (same canonical hash as at issue).
   * @default none: the token must carry no context
   */
  context?: (request: AnyRequest) => OtpContext | Promise<OtpContext>;
  /**
   * The address the token must have been mailed to. A function of the request
   * (for example the `email` of a sign-in body), or `false` to accept a token of
   * any recipient (the handler then checks `proof.recipientIndex` itself).
   * @default the module's `currentUserEmail` option; none configured: not bound
   */
  recipient?: ((request: AnyRequest) => string | null | undefined | Promise<string | null | undefined>) | false;
}

export interface RequireOtpMetadata extends RequireOtpOptions {
  purpose: string;
}

/**
 * Marks a route (or a controller) as needing a proof token of `purpose`; pair it
 * with `@UseGuards(OtpGuard)`, placed after your authentication guard. Only
 * writes metadata.
 */
export function RequireOtp(purpose: string, options: RequireOtpOptions = {}): MethodDecorator & ClassDecorator {
  return SetMetadata<string, RequireOtpMetadata>(REQUIRE_OTP_METADATA, { purpose, ...options });
}

/**
 * Injects the proof redeemed by `OtpGuard`. If the guard did not run on the
 * route, the request is refused (401) rather than handled without a proof.
 */
export const OtpProof = createParamDecorator((_data: unknown, ctx: ExecutionContext): RedeemedOtpProof => {
  const proof = ctx.switchToHttp().getRequest()?.[OTP_PROOF_REQUEST_KEY] as RedeemedOtpProof | undefined;
  if (!proof) throw otpHttpException(new OtpRequiredError('no proof on the request: OtpGuard did not run'));
  return proof;
});
