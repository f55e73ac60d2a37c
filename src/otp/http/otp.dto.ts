import {
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateBy,
  ValidationArguments,
} from 'class-validator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { isOtpContext, MAX_CONTEXT_KEYS, MAX_CONTEXT_STRING, type OtpContext } from '../crypto/canonical';
import { IsOtpEmail } from '../http-kit/otp-email.validator';

const CONTEXT_DOC = { type: 'object', additionalProperties: true, description: 'Flat object of at most 16 scalar values the code approves, e.g. { amount, to }' } as const;

/** A flat object of at most 16 short scalar values: what a code can be bound to. */
function IsOtpContext(): PropertyDecorator {
  return ValidateBy({
    name: 'isOtpContext',
    validator: {
      validate: (value: unknown): boolean => isOtpContext(value),
      defaultMessage: (args?: ValidationArguments) =>
        `${args?.property} must be a flat object of at most ${MAX_CONTEXT_KEYS} scalar values (strings up to ${MAX_CONTEXT_STRING} characters)`,
    },
  });
}

/** The patterns of the fields below, shared with the fast path of `OtpBodyPipe` (`otp-body.pipe.ts`). */
export const PURPOSE_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
export const LOCALE_PATTERN = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/;
export const LOCALE_MAX_LENGTH = 35;
export const CODE_PATTERN = /^[0-9]{6,10}$/;

export class IssueChallengeDto {
  @ApiProperty({ example: 'you@example.com', maxLength: 254 })
  @IsOtpEmail()
  email: string;

  @ApiPropertyOptional({ example: 'login', default: 'login' })
  @IsOptional()
  @IsString()
  @Matches(PURPOSE_PATTERN, { message: 'purpose must be a lower-case name' })
  purpose?: string;

  @ApiPropertyOptional({ example: 'pt-BR' })
  @IsOptional()
  @IsString()
  @MaxLength(LOCALE_MAX_LENGTH)
  @Matches(LOCALE_PATTERN, { message: 'locale must be a BCP 47 tag such as pt-BR' })
  locale?: string;

  @ApiPropertyOptional(CONTEXT_DOC)
  @IsOptional()
  @IsObject()
  @IsOtpContext()
  context?: OtpContext;
}

export class VerifyChallengeDto {
  @ApiProperty({ example: '123456', pattern: '^[0-9]{6,10}$' })
  @IsString()
  @IsNotEmpty()
  @Matches(CODE_PATTERN, { message: 'code must be 6 to 10 digits' })
  code: string;

  @ApiPropertyOptional(CONTEXT_DOC)
  @IsOptional()
  @IsObject()
  @IsOtpContext()
  context?: OtpContext;
}

/** Response of issue and resend (202). */
export class ChallengeResponseDto {
  @ApiProperty({ format: 'uuid' })
  challengeId: string;
  @ApiProperty({ format: 'date-time' })
  expiresAt: string;
  @ApiProperty({ format: 'date-time' })
  resendAvailableAt: string;
}
