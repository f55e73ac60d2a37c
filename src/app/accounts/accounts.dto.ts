import { IsEmail, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

class EmailField {
  @IsString()
  @MaxLength(254)
  @IsEmail({ allow_display_name: false, allow_ip_domain: false, require_tld: true })
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
