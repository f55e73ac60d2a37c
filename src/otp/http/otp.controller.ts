import {
  Inject,
  Header,
  Body,
  Controller,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Req,
  Type,
  UseFilters,
  UseGuards,
  UsePipes,
  BadRequestException,
  PipeTransform,
} from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { Audited } from '../audit/audited.decorator';
import { AuditScope, AuditScopeOf, OtpAuditedRoutes } from '../audit/audited-route';
import { OtpAuditedExceptionFilter } from '../audit/audited-exception.filter';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import { OtpContextInvalidError, OtpPurposeUnknownError } from '../core/otp.errors';
import type { ResolvedPurposeOptions } from '../core/purpose-options';
import { publicPurpose } from '../challenges/otp-purposes';
import { OtpService } from '../challenges/otp.service';
import { IssuedChallenge } from '../core/otp.types';
import { OtpTokenService } from '../tokens/otp-token.service';
import { OtpBodyPipe } from './otp-body.pipe';
import { ChallengeResponseDto, IssueChallengeDto, VerifyChallengeDto } from './otp.dto';
import { JsonBodyGuard } from '../http-kit/json-body.guard';
import { RejectQueryGuard } from '../http-kit/reject-query.guard';
import { ApiOtpErrors, OtpErrorBodyDto, OtpProofResponseDto } from './otp-openapi';
import { OtpRateLimited } from '../rate-limit/otp-rate-limit.decorator';
import { OtpThrottlerGuard } from '../rate-limit/otp-throttler.guard';
import { isUuid } from '../crypto/uuid';
import { isoTime } from '../core/iso-time';

interface ClientRequest {
  ip?: string;
  headers: Record<string, string | string[] | undefined>;
}

/** 400 for a challenge id that cannot be one (an unknown but well-formed id gets the uniform 401). */
class ChallengeIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isUuid(value)) throw new BadRequestException({ error: 'validation_failed', message: 'The challenge id is not valid.' });
    return value.toLowerCase();
  }
}

/** Resend takes no fields; any field is refused, as unknown fields are everywhere else. */
class EmptyBodyPipe implements PipeTransform<unknown, undefined> {
  transform(value: unknown): undefined {
    const empty = value === undefined || value === null || (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0);
    if (!empty) throw new BadRequestException({ error: 'validation_failed', message: 'This route takes no body fields.' });
    return undefined;
  }
}

function toResponse(c: IssuedChallenge): ChallengeResponseDto {
  return { challengeId: c.challengeId, expiresAt: isoTime(c.expiresAt), resendAvailableAt: isoTime(c.resendAvailableAt) };
}

function userAgentOf(req: ClientRequest): string | undefined {
  const ua = req.headers['user-agent'];
  return typeof ua === 'string' ? ua.slice(0, 256) : undefined;
}

/** HTTP face of `OtpService`; mounted by `OtpModule` under its route prefix. */
@ApiTags('otp')
@ApiOtpErrors()
@UseGuards(RejectQueryGuard, JsonBodyGuard, OtpThrottlerGuard)
// No interceptor: no-store is set with @Header on each route (errors get it from the filter), and the
// `@Audited` outcome is recorded by `OtpAuditedRoutes` (success) and the filter (a pipe's or the
// handler's error), in the request's audit context: Nest's interceptor machinery costs about 60 µs
// a request on Node 20 (docs/performance.md).
@UseFilters(OtpAuditedExceptionFilter)
@UsePipes(new OtpBodyPipe())
export class OtpController {
  constructor(
    private readonly otp: OtpService,
    private readonly tokens: OtpTokenService,
    @Inject(OTP_RESOLVED_OPTIONS) private readonly options: ResolvedPurposeOptions,
    private readonly audited: OtpAuditedRoutes,
  ) {}

  @Post('challenges')
  @OtpRateLimited('issue')
  @ApiOperation({ summary: 'Send a code to an address (same answer for every well-formed address)' })
  @ApiAcceptedResponse({ type: ChallengeResponseDto })
  @Audited('otp.issue')
  @HttpCode(HttpStatus.ACCEPTED)
  @Header('Cache-Control', 'no-store')
  async issue(@AuditScopeOf() audit: AuditScope, @Body() body: IssueChallengeDto, @Req() req: ClientRequest): Promise<ChallengeResponseDto> {
    return this.audited.run(audit, () => this.issueFor(body, req));
  }

  @Post('challenges/:id/verify')
  @OtpRateLimited('verify')
  @ApiOperation({ summary: 'Verify a code' })
  @ApiOkResponse({ description: 'Proof of the verified code', type: OtpProofResponseDto })
  @ApiUnauthorizedResponse({ description: 'Wrong, expired, used or unknown: always the same answer', type: OtpErrorBodyDto })
  @Audited('otp.verify')
  @HttpCode(HttpStatus.OK)
  @Header('Cache-Control', 'no-store')
  async verify(
    @AuditScopeOf() audit: AuditScope, @Param('id', ChallengeIdPipe) id: string, @Body() body: VerifyChallengeDto,
  ): Promise<Record<string, unknown>> {
    return this.audited.run(audit, () => this.verifyFor(id, body));
  }

  @Post('challenges/:id/resend')
  @OtpRateLimited('resend')
  @ApiOperation({ summary: 'Send a fresh code for a live challenge' })
  @ApiAcceptedResponse({ type: ChallengeResponseDto })
  @ApiUnauthorizedResponse({ description: 'Unknown or ended challenge', type: OtpErrorBodyDto })
  @Audited('otp.resend')
  @HttpCode(HttpStatus.ACCEPTED)
  @Header('Cache-Control', 'no-store')
  async resend(
    @AuditScopeOf() audit: AuditScope, @Param('id', ChallengeIdPipe) id: string, @Body(EmptyBodyPipe) _body: unknown, @Req() req: ClientRequest,
  ): Promise<ChallengeResponseDto> {
    return this.audited.run(audit, async () => toResponse(await this.otp.resend(id, { ip: req.ip })));
  }

  private async issueFor(body: IssueChallengeDto, req: ClientRequest): Promise<ChallengeResponseDto> {
    // A host purpose (issue: 'host') is started only by the host's own route: here it is refused as undeclared.
    const rules = publicPurpose(this.options, body.purpose ?? 'login');
    if (!rules) throw new OtpPurposeUnknownError();
    // A public caller's context is bound and mailed only where the purpose names its fields:
    // free keys from anyone would be an approval request in the service's name.
    if (body.context !== undefined && Object.keys(rules.contextFields).length === 0) {
      throw new OtpContextInvalidError(`purpose "${body.purpose ?? 'login'}" takes no context on this route`);
    }
    return toResponse(
      await this.otp.issue({
        email: body.email,
        purpose: body.purpose,
        locale: body.locale,
        context: body.context,
        ip: req.ip,
        userAgent: userAgentOf(req),
      }),
    );
  }

  private async verifyFor(id: string, body: VerifyChallengeDto): Promise<Record<string, unknown>> {
    const issued = await this.tokens.verifyAndIssue({ challengeId: id, code: body.code, context: body.context });
    return {
      token: issued.token,
      tokenType: issued.tokenType,
      expiresAt: isoTime(issued.expiresAt),
      purpose: issued.purpose,
      amr: issued.amr,
      challengeId: issued.challengeId,
    };
  }
}


/** The controller class mounted at `prefix`. */
export function otpControllerAt(prefix: string): Type<OtpController> {
  class MountedOtpController extends OtpController {}
  Controller(prefix)(MountedOtpController);
  return MountedOtpController;
}
