import { randomUUID } from 'node:crypto';
import { Body, Controller, HttpCode, HttpException, Module, Param, Post, UseInterceptors, UsePipes } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Audited, NoStoreInterceptor } from '../../src/otp';
import { OtpAuditInterceptor } from '../../src/otp/audit/audit.interceptor';
import { otpValidationPipe } from '../../src/otp/http-kit/otp-validation.pipe';
import { IssueChallengeDto } from '../../src/otp/http/otp.dto';
import { LIMIT_CIPHERTEXT, LIMIT_DIGEST, LIMIT_ISSUE_SQL, LIMIT_VERIFY_SQL, rowsOf, UUID } from './limit-sql';

/**
 * The "limit" of the benchmark: bare routes in the same NestJS app, on the same
 * data source and pool, doing the same database round trips as the OTP routes
 * with none of their logic (no validation, crypto, events or mail). Mounted
 * only by the benchmark harness, never by the app.
 */
@Controller('bench/limit')
export class BenchBareLimitController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  @Post('challenges')
  @HttpCode(202)
  async issue(@Body() body: { email?: unknown }): Promise<Record<string, unknown>> {
    const id = randomUUID();
    const [row] = rowsOf(await this.db.query(LIMIT_ISSUE_SQL, [id, String(body?.email), LIMIT_DIGEST, LIMIT_CIPHERTEXT]));
    return { challengeId: id, expiresAt: row.expires_at, resendAvailableAt: row.resend_available_at };
  }

  @Post('challenges/:id/verify')
  @HttpCode(200)
  async verify(@Param('id') id: string): Promise<Record<string, unknown>> {
    if (!UUID.test(id)) throw new HttpException({ error: 'bad_request', message: 'bad id' }, 400);
    const [row] = rowsOf(await this.db.query(LIMIT_VERIFY_SQL, [id]));
    if (!row) throw new HttpException({ error: 'otp_invalid', message: 'invalid' }, 401);
    return { challengeId: row.id, purpose: row.purpose, verifiedAt: row.consumed_at };
  }
}

/** The limit routes plus the diagnostics routes (the example app's bench instance). */
@Controller('bench/limit')
export class BenchLimitController extends BenchBareLimitController {
  /** Diagnostics (`npm run bench:profile` with PROFILE_ROUTE=decompose): the limit plus one piece of the OTP pipeline. */
  @Post('challenges/validated')
  @HttpCode(202)
  @UsePipes(otpValidationPipe)
  issueValidated(@Body() body: IssueChallengeDto): Promise<Record<string, unknown>> {
    return this.issue(body);
  }

  @Post('challenges/intercepted')
  @HttpCode(202)
  @UseInterceptors(NoStoreInterceptor)
  issueIntercepted(@Body() body: { email?: unknown }): Promise<Record<string, unknown>> {
    return this.issue(body);
  }

  /** The same with the OTP routes' audit interceptor (its event is named so that no OTP metric counts it). */
  @Post('challenges/audited')
  @HttpCode(202)
  @UseInterceptors(OtpAuditInterceptor)
  @Audited('bench.limit')
  issueAudited(@Body() body: { email?: unknown }): Promise<Record<string, unknown>> {
    return this.issue(body);
  }
}

@Module({ controllers: [BenchLimitController] })
export class BenchLimitModule {}
