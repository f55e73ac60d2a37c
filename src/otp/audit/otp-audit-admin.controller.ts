import { Body, Controller, Get, Header, HttpCode, Post, UseGuards, UseInterceptors, UsePipes } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsDate, IsEmail, IsInt, IsIP, IsOptional, IsString, IsUUID, Matches, Max, MaxDate, MaxLength, Min, MinDate } from 'class-validator';
import { OtpEventBus } from '../events/otp-event-bus';
import { BodyDepthPipe } from '../http-kit/body-depth.pipe';
import { JsonBodyGuard } from '../http-kit/json-body.guard';
import { NoStoreInterceptor } from '../http-kit/no-store.interceptor';
import { otpValidationPipe } from '../http-kit/otp-validation.pipe';
import { OtpOperatorRoute } from '../operator/operator-route.decorator';
import { AUDIT_QUERY_EARLIEST, AUDIT_QUERY_LATEST, OtpAuditService } from './otp-audit.service';

/** Filters of an audit query, sent in the body: an address must never travel in a URL. */
export class AuditQueryDto {
  @IsOptional() @IsString() @MaxLength(254) @IsEmail()
  email?: string;

  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9_-]{1,128}$/)
  recipientIndex?: string;

  @IsOptional() @IsString() @IsIP()
  ip?: string;

  @IsOptional() @IsUUID()
  challengeId?: string;

  @IsOptional() @IsString() @Matches(/^[a-z][a-z0-9_.-]{0,63}$/)
  event?: string;

  @IsOptional() @Type(() => Date) @IsDate() @MinDate(AUDIT_QUERY_EARLIEST) @MaxDate(AUDIT_QUERY_LATEST)
  from?: Date;

  @IsOptional() @Type(() => Date) @IsDate() @MinDate(AUDIT_QUERY_EARLIEST) @MaxDate(AUDIT_QUERY_LATEST)
  to?: Date;

  @IsOptional() @IsString() @Matches(/^[0-9]{1,19}$/)
  afterSeq?: string;

  @IsOptional() @IsInt() @Min(1) @Max(100_000)
  limit?: number;
}

/** Operator routes over the audit trail (`@OtpOperatorRoute`: throttled, then the token); every use is itself audited. */
@Controller('admin/otp/audit')
@OtpOperatorRoute()
@UseGuards(JsonBodyGuard)
@UseInterceptors(NoStoreInterceptor)
@UsePipes(new BodyDepthPipe(), otpValidationPipe)
export class OtpAuditAdminController {
  constructor(
    private readonly audit: OtpAuditService,
    private readonly bus: OtpEventBus,
  ) {}

  @Post('query')
  @HttpCode(200)
  async query(@Body() q: AuditQueryDto): Promise<{ events: unknown[] }> {
    this.accessed('query', q);
    const events = await this.audit.list({ ...q, limit: Math.min(q.limit ?? 100, 1000) });
    return { events: events.map((e) => ({ ...e, at: e.at.toISOString() })) };
  }

  @Post('export')
  @HttpCode(200)
  @Header('Content-Type', 'application/x-ndjson; charset=utf-8')
  async export(@Body() q: AuditQueryDto): Promise<string> {
    this.accessed('export', q);
    const lines: string[] = [];
    await this.audit.exportJsonLines(q, (line) => {
      lines.push(line);
    });
    return lines.join('');
  }

  @Get('verify')
  async verify(): Promise<unknown> {
    this.accessed('verify', {});
    return this.audit.verifyChain();
  }

  private accessed(action: string, q: object): void {
    this.bus.emit({ name: 'audit.queried', outcome: 'success', detail: { action, filters: Object.keys(q).sort().join(',') } });
  }
}
