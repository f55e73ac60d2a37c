import { applyDecorators, Body, Controller, Delete, Get, Header, HttpCode, HttpStatus, Post, UseGuards, UsePipes } from '@nestjs/common';
import { BodyDepthPipe, OtpGuard, OtpProof, RedeemedOtpProof, RequireOtp } from 'nestjs-email-otp';
import { appValidationPipe } from '../common/app-validation.pipe';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiServiceUnavailableResponse, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { ApiErrorBodyDto, ApiJsonBody, ApiNeeds, ApiRefused, OTP_TOKEN_SCHEME, SESSION_SCHEME } from '../http/openapi-responses';
import { CodeSignInDto, MeResponse, PasswordSignInDto, SessionResponse, SetPasswordDto } from './accounts.dto';
import { AccountsService, CurrentAccount, IssuedSession } from './accounts.service';
import { PasswordChangeThrottleGuard } from './password-change.guard';
import { Account, SessionGuard } from './session.guard';
import { SignInClient, SignInClientOf } from './sign-in-client';

/** The sign-in body's address: the login token must have been mailed to it. */
const bodyEmail = (req: { body?: { email?: unknown } }): string | undefined =>
  typeof req.body?.email === 'string' ? req.body.email : undefined;

/**
 * `Cache-Control: no-store` and `Pragma: no-cache` on every answer of these routes, without an
 * interceptor (Nest's interceptor machinery costs about 60 µs a request): set on success here,
 * and error answers get `Cache-Control: no-store` from the app's `OtpExceptionFilter`.
 */
const NoStore = (): MethodDecorator => applyDecorators(Header('Cache-Control', 'no-store'), Header('Pragma', 'no-cache'));

function toResponse(s: IssuedSession): SessionResponse {
  return { sessionToken: s.sessionToken, expiresAt: s.expiresAt.toISOString() };
}

/**
 * Sign-in with an email code (passwordless), or a password plus an email code
 * (two factors); the session answers `GET /accounts/me`.
 */
@Controller('accounts')
@ApiTags('accounts')
// BodyDepthPipe first: the validators throw (a 500) on own constructor keys and lone surrogates.
@UsePipes(new BodyDepthPipe(), appValidationPipe)
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  /** Passwordless: `X-OTP-Token` of purpose `login` mailed to `email`. Creates the account on first use. */
  @Post('sessions')
  @NoStore()
  @ApiCreatedResponse({ type: SessionResponse })
  @ApiJsonBody()
  @ApiNeeds([OTP_TOKEN_SCHEME], '`otp_required` (no valid login token for this address) or `invalid_credentials`')
  @ApiRefused('`password_required`: the account has a password, sign in with it and a code (R16)')
  @UseGuards(OtpGuard)
  @RequireOtp('login', { recipient: bodyEmail })
  async signInWithCode(
    @Body() body: CodeSignInDto, @OtpProof() proof: RedeemedOtpProof, @SignInClientOf() client: SignInClient,
  ): Promise<SessionResponse> {
    return toResponse(await this.accounts.signInWithCode(body.email, proof, client));
  }

  /** Two factors: the password and an `X-OTP-Token` of purpose `login` mailed to `email`. */
  @Post('sessions/password')
  @NoStore()
  @ApiCreatedResponse({ type: SessionResponse })
  @ApiJsonBody()
  @ApiNeeds([OTP_TOKEN_SCHEME], '`otp_required` (no valid login token for this address) or `invalid_credentials`')
  @UseGuards(OtpGuard)
  @RequireOtp('login', { recipient: bodyEmail })
  async signInWithPassword(
    @Body() body: PasswordSignInDto, @OtpProof() proof: RedeemedOtpProof, @SignInClientOf() client: SignInClient,
  ): Promise<SessionResponse> {
    return toResponse(await this.accounts.signInWithPassword(body.email, body.password, proof, client));
  }

  @Delete('sessions/current')
  @NoStore()
  @ApiNoContentResponse({ description: 'Signed out' })
  @ApiNeeds([SESSION_SCHEME], '`session_required`')
  @UseGuards(SessionGuard)
  @HttpCode(HttpStatus.NO_CONTENT)
  async signOut(@Account() account: CurrentAccount): Promise<void> {
    await this.accounts.signOut(account);
  }

  /**
   * Sets the first password, or changes it with `currentPassword`; other sessions end.
   * Limited per client IP and per account (429); a wrong `currentPassword` is audited.
   */
  @Post('password')
  @NoStore()
  @ApiNoContentResponse({ description: 'Password set; other sessions ended' })
  @ApiJsonBody()
  @ApiNeeds([SESSION_SCHEME], '`session_required`, or `invalid_credentials` (wrong current password)')
  @ApiRefused('`current_password_required`: changing a password needs the current one')
  @ApiTooManyRequestsResponse({ description: 'Too many password changes for this account or IP (`otp_throttled`)', type: ApiErrorBodyDto })
  @ApiServiceUnavailableResponse({ description: 'Password hashing is saturated, or the rate-limit store cannot answer (`otp_unavailable`)', type: ApiErrorBodyDto })
  @UseGuards(SessionGuard, PasswordChangeThrottleGuard)
  @HttpCode(HttpStatus.NO_CONTENT)
  async setPassword(@Account() account: CurrentAccount, @Body() body: SetPasswordDto): Promise<void> {
    await this.accounts.setPassword(account, body.password, body.currentPassword);
  }

  @Get('me')
  @NoStore()
  @ApiOkResponse({ type: MeResponse })
  @ApiNeeds([SESSION_SCHEME], '`session_required`')
  @UseGuards(SessionGuard)
  me(@Account() a: CurrentAccount): MeResponse {
    return {
      id: a.id,
      email: a.email,
      hasPassword: a.hasPassword,
      createdAt: a.createdAt.toISOString(),
      session: { amr: a.amr, expiresAt: a.sessionExpiresAt.toISOString() },
    };
  }
}
