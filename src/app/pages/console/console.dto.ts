import { Type } from 'class-transformer';
import { IsDate, IsEmail, IsInt, IsIP, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';

/** `POST /admin/session`: the operator token, sent once. A missing token is a failed sign-in (401), not a 400. */
export class ConsoleSignInDto {
  @IsOptional() @IsString() @MaxLength(1024)
  token?: string;
}

/** `POST /admin/console/audit`: the console's search, in the body (an address never travels in a URL). */
export class ConsoleAuditQueryDto {
  @IsOptional() @IsString() @MaxLength(254) @IsEmail()
  email?: string;

  @IsOptional() @IsString() @IsIP()
  ip?: string;

  @IsOptional() @IsUUID()
  challengeId?: string;

  @IsOptional() @IsString() @Matches(/^[a-z][a-z0-9_.-]{0,63}$/)
  event?: string;

  @IsOptional() @Type(() => Date) @IsDate()
  from?: Date;

  @IsOptional() @Type(() => Date) @IsDate()
  to?: Date;

  @IsOptional() @IsInt() @Min(1) @Max(1000)
  limit?: number;
}
