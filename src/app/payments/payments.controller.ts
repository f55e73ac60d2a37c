import { randomUUID } from 'node:crypto';
import { Body, Controller, Get, HttpCode, HttpStatus, Post, Req, UseGuards, UseInterceptors, UsePipes } from '@nestjs/common';
import { BodyDepthPipe, NoStoreInterceptor, OtpGuard, OtpProof, OtpService, RedeemedOtpProof, RequireOtp, untaggedChallengeId } from 'nestjs-email-otp';
import { Account, CurrentAccount, SessionGuard } from '../accounts';
import { appValidationPipe } from '../common/app-validation.pipe';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ApiJsonBody, ApiNeeds, ApiSendsCode, OTP_TOKEN_SCHEME, SESSION_SCHEME } from '../http/openapi-responses';
import { CreateTransferDto, TransferChallengeResponse, TransferResponse } from './payments.dto';
import { TransferRow, TransfersStore } from './transfers.store';

/** The facts a transfer code approves: exactly what the challenge was asked with. */
const transferContext = (req: { body?: { amount?: unknown; to?: unknown } }) =>
  ({ amount: req.body?.amount, to: req.body?.to }) as { amount: number; to: string };

function toResponse(t: TransferRow): TransferResponse {
  return { id: t.id, amount: t.amount, to: t.to, createdAt: t.createdAt.toISOString() };
}

/**
 * Transfers need a session and a `transfer` code approving this amount and
 * payee, asked on `POST /payments/transfers/challenges` and mailed to the
 * signed-in account (the module's `currentUserEmail` binds the proof to it).
 * `SessionGuard` runs first so `OtpGuard` knows whose session it is.
 */
@Controller('payments/transfers')
@ApiTags('payments')
// BodyDepthPipe first: the validators throw (a 500) on own constructor keys and lone surrogates.
@UsePipes(new BodyDepthPipe(), appValidationPipe)
@UseInterceptors(NoStoreInterceptor)
@UseGuards(SessionGuard)
export class PaymentsController {
  constructor(
    private readonly transfers: TransfersStore,
    private readonly otp: OtpService,
  ) {}

  /**
   * Mails the signed-in account a `transfer` code bound to `{ amount, to }` (the
   * purpose is host-only: the public issue route refuses it). The client verifies
   * it on `POST /auth/otp/challenges/:id/verify` with the same `context`.
   */
  @Post('challenges')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiAcceptedResponse({ type: TransferChallengeResponse, description: 'A `transfer` code bound to this amount and payee is on its way' })
  @ApiJsonBody()
  @ApiNeeds([SESSION_SCHEME], '`session_required`')
  @ApiSendsCode()
  async challenge(
    @Account() account: CurrentAccount,
    @Body() body: CreateTransferDto,
    @Req() req: { ip?: string; headers: Record<string, string | string[] | undefined> },
  ): Promise<TransferChallengeResponse> {
    const ua = req.headers['user-agent'];
    const issued = await this.otp.issue({
      email: account.email,
      purpose: 'transfer',
      context: { amount: body.amount, to: body.to },
      ip: req.ip,
      userAgent: typeof ua === 'string' ? ua.slice(0, 256) : undefined,
    });
    return { challengeId: issued.challengeId, expiresAt: issued.expiresAt.toISOString(), resendAvailableAt: issued.resendAvailableAt.toISOString() };
  }

  @Post()
  @ApiCreatedResponse({ type: TransferResponse })
  @ApiJsonBody()
  @ApiNeeds([SESSION_SCHEME, OTP_TOKEN_SCHEME], '`session_required`, or `otp_required` (no valid transfer token for this amount and payee)')
  @UseGuards(OtpGuard)
  @RequireOtp('transfer', { context: transferContext })
  async create(
    @Account() account: CurrentAccount,
    @Body() body: CreateTransferDto,
    @OtpProof() proof: RedeemedOtpProof,
  ): Promise<TransferResponse> {
    // The challenge that approved it, as kept: its recipient tag zeroed (the row outlives the challenge).
    const otpChallengeId = untaggedChallengeId(proof.challengeId);
    const row = await this.transfers.insert({ id: randomUUID(), accountId: account.id, amount: body.amount, to: body.to, otpChallengeId });
    return toResponse(row);
  }

  @Get()
  @ApiOkResponse({ type: [TransferResponse] })
  @ApiNeeds([SESSION_SCHEME], '`session_required`')
  async list(@Account() account: CurrentAccount): Promise<TransferResponse[]> {
    return (await this.transfers.listForAccount(account.id)).map(toResponse);
  }
}
