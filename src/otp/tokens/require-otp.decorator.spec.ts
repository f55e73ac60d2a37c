import { ExecutionContext, HttpException } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { OtpRequiredError } from '../core/otp.errors';
import { otpErrorToHttp } from '../core/otp-error.http';
import { OTP_PROOF_REQUEST_KEY, OtpProof } from './require-otp.decorator';

/** The factory Nest runs for `@OtpProof()` (read back from the route-argument metadata). */
function proofFactory(): (data: unknown, ctx: ExecutionContext) => unknown {
  class Ctl {
    handle(@OtpProof() _proof: unknown) {}
  }
  const args = Reflect.getMetadata(ROUTE_ARGS_METADATA, Ctl, 'handle') as Record<string, { factory: (data: unknown, ctx: ExecutionContext) => unknown }>;
  return Object.values(args)[0].factory;
}

const contextWith = (req: Record<string, unknown>) => ({ switchToHttp: () => ({ getRequest: () => req }) }) as unknown as ExecutionContext;

describe('@OtpProof', () => {
  it('injects the proof the guard left on the request', () => {
    const proof = { purpose: 'login' };
    expect(proofFactory()(undefined, contextWith({ [OTP_PROOF_REQUEST_KEY]: proof }))).toBe(proof);
  });

  it('without a proof (the guard did not run) refuses with the same 401 otp_required answer as OtpGuard', () => {
    let thrown: unknown;
    try {
      proofFactory()(undefined, contextWith({}));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(HttpException);
    const expected = otpErrorToHttp(new OtpRequiredError());
    expect({ status: (thrown as HttpException).getStatus(), body: (thrown as HttpException).getResponse() }).toEqual({ status: expected.status, body: expected.body });
    expect(expected.body).toEqual({ error: 'otp_required', message: 'This action needs a valid one-time-passcode token. Verify a new code for it.' });
  });
});
