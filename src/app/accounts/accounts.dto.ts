import { ApiProperty } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { IsOtpEmail } from 'nestjs-email-otp';

/** The same email rule as the OTP routes: an address the module can canonicalise (accounts are keyed on that form). */
class EmailField {
  @ApiProperty({ format: 'email', maxLength: 254, example: 'you@example.com' })
  @IsOtpEmail()
  email: string;
}

export class CodeSignInDto extends EmailField {}

export class PasswordSignInDto extends EmailField {
  @ApiProperty({ minLength: 1, maxLength: 128 })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  password: string;
}

export class SetPasswordDto {
  /** At least 12 characters (NIST SP 800-63B allows 8; longer is cheap to ask), at most 128. */
  @ApiProperty({ minLength: 12, maxLength: 128 })
  @IsString()
  @MinLength(12)
  @MaxLength(128)
  password: string;

  @ApiProperty({ required: false, maxLength: 128, description: 'Needed to change an existing password' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  currentPassword?: string;
}

export class SessionResponse {
  @ApiProperty({ description: 'Send it as `Authorization: Bearer <sessionToken>`' })
  sessionToken: string;

  @ApiProperty({ format: 'date-time' })
  expiresAt: string;
}

export class MeSessionResponse {
  @ApiProperty({ type: [String], example: ['otp_email'], description: 'How the session was signed in' })
  amr: string[];

  @ApiProperty({ format: 'date-time' })
  expiresAt: string;
}

/** Answer of `GET /accounts/me`. */
export class MeResponse {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'email' })
  email: string;

  @ApiProperty()
  hasPassword: boolean;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ type: MeSessionResponse })
  session: MeSessionResponse;
}
