import { CanActivate, ExecutionContext, HttpException, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { contextHash, isOtpContext, OtpContext } from '../crypto/canonical';
import { bodyProblem } from '../http-kit/body-shape';
import { otpHttpException } from '../core/otp-error.http';
import { OtpRequestContextInvalidError, OtpRequiredError, OtpUnavailableError } from '../core/otp.errors';
import { OtpTokenService } from './otp-token.service';
import { OTP_PROOF_REQUEST_KEY, REQUIRE_OTP_METADATA, RequireOtpMetadata } from './require-otp.decorator';

interface GuardedRequest {
  headers?: Record<string, string | string[] | undefined>;
  body?: unknown;
  ip?: string;
  [OTP_PROOF_REQUEST_KEY]?: unknown;
}

const otpRequired = (): HttpException => otpHttpException(new OtpRequiredError());

/**
 * Lets a request through only with a live token for the route's purpose,
 * context and recipient (see `@RequireOtp`), redeeming it on the way. Never
 * answers 500: a bad token is 401 `otp_required`, a request whose context
 * cannot be read, or whose body holds an own `constructor`/`prototype`/`__proto__`
 * key or a lone surrogate, is 400, a database outage 503. Works on Express and Fastify
 * (reads only headers, body through the host's functions, and `ip`).
 * Subclass and override `getToken` to read the token elsewhere.
 */
@Injectable()
export class OtpGuard implements CanActivate {
  private readonly logger = new Logger(OtpGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: OtpTokenService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const spec = this.reflector.getAllAndOverride<RequireOtpMetadata | undefined>(REQUIRE_OTP_METADATA, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    if (!spec) return true;
    const req = ctx.switchToHttp().getRequest<GuardedRequest>();
    const token = this.getToken(req);
    if (!token) throw otpRequired();

    // Everything the token must match is read before it is redeemed, so a malformed request does not burn it.
    // A body the host's validation pipe could not read (an own constructor key, a lone surrogate) is refused first:
    // its address would hash like another one, and the pipe would refuse it only after the token was spent.
    const problem = bodyProblem(req.body);
    if (problem) throw problem;
    const context = await this.readContext(spec, req);
    const recipientEmail = await this.readRecipient(spec, req);
    try {
      req[OTP_PROOF_REQUEST_KEY] = await this.tokens.redeem(token, {
        purpose: spec.purpose,
        contextHash: contextHash(context),
        recipientEmail,
        ip: req.ip,
        userAgent: typeof req.headers?.['user-agent'] === 'string' ? req.headers['user-agent'].slice(0, 256) : undefined,
      });
      return true;
    } catch (err) {
      if (err instanceof OtpRequiredError) throw otpRequired();
      this.logger.error(`token redemption failed: ${(err as Error)?.name ?? 'unknown error'}`);
      throw otpHttpException(new OtpUnavailableError());
    }
  }

  /** The token presented on the request: the configured header, once. */
  protected getToken(req: GuardedRequest): string | undefined {
    const value = req.headers?.[this.tokens.headerName];
    return typeof value === 'string' && value.length > 0 ? value.trim() : undefined;
  }

  private async readContext(spec: RequireOtpMetadata, req: GuardedRequest): Promise<OtpContext | undefined> {
    if (!spec.context) return undefined;
    let context: unknown;
    try {
      context = await spec.context(req);
    } catch {
      context = undefined;
    }
    if (!isOtpContext(context)) {
      throw otpHttpException(new OtpRequestContextInvalidError());
    }
    return context;
  }

  /** `undefined`: not bound. A binding that yields no address refuses the request. */
  private async readRecipient(spec: RequireOtpMetadata, req: GuardedRequest): Promise<string | undefined> {
    if (spec.recipient === false) return undefined;
    const find = spec.recipient ?? this.tokens.currentUserEmail;
    if (!find) return undefined;
    let email: unknown;
    try {
      email = await find(req);
    } catch (err) {
      if (err instanceof HttpException) throw err;
      email = undefined;
    }
    if (typeof email !== 'string' || email.trim().length === 0 || email.length > 320) throw otpRequired();
    return email;
  }
}
