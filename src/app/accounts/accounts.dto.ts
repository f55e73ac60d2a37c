import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { IsOtpEmail } from '../../otp';

/** The same email rule as the OTP routes: an address the module can canonicalise (accounts are keyed on that form). */
class EmailField {
  @IsOtpEmail()
  email: string;
}

export class CodeSignInDto extends EmailField {}

export class PasswordSignInDto extends EmailField {
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  password: string;
}

export class SetPasswordDto {
  /** At least 12 characters (NIST SP 800-63B allows 8; longer is cheap to ask), at most 128. */
  @IsString()
  @MinLength(12)
  @MaxLength(128)
  password: string;

  @IsOptional()
  @IsString()
  @MaxLength(128)
  currentPassword?: string;
}

export interface SessionResponse {
  sessionToken: string;
  expiresAt: string;
}
