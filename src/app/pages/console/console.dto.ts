import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDate, IsEmail, IsInt, IsIP, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';

/** `POST /admin/session`: the operator token, sent once. A missing token is a failed sign-in (401), not a 400. */
export class ConsoleSignInDto {
  @ApiPropertyOptional({ description: 'The operator token (`OTP_ADMIN_TOKEN`)', format: 'password' })
  @IsOptional() @IsString() @MaxLength(1024)
  token?: string;
}

/** `POST /admin/console/audit`: the console's search, in the body (an address never travels in a URL). */
export class ConsoleAuditQueryDto {
  @ApiPropertyOptional({ format: 'email', description: 'Matched by its blind index' })
  @IsOptional() @IsString() @MaxLength(254) @IsEmail()
  email?: string;

  @ApiPropertyOptional()
  @IsOptional() @IsString() @IsIP()
  ip?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional() @IsUUID()
  challengeId?: string;

  @ApiPropertyOptional({ example: 'verify.succeeded' })
  @IsOptional() @IsString() @Matches(/^[a-z][a-z0-9_.-]{0,63}$/)
  event?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  @IsOptional() @Type(() => Date) @IsDate()
  from?: Date;

  @ApiPropertyOptional({ format: 'date-time', description: 'Exclusive' })
  @IsOptional() @Type(() => Date) @IsDate()
  to?: Date;

  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 100 })
  @IsOptional() @IsInt() @Min(1) @Max(1000)
  limit?: number;
}
