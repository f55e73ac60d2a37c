import { ApiProperty } from '@nestjs/swagger';
import { IsNumber, IsString, Matches, Max, Min } from 'class-validator';

export class CreateTransferDto {
  /** In the account's currency, at most two decimals. */
  @ApiProperty({ minimum: 0.01, maximum: 1_000_000, example: 125.5, description: 'At most two decimals' })
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 2 })
  @Min(0.01)
  @Max(1_000_000)
  amount: number;

  /** The payee's handle. */
  @ApiProperty({ pattern: '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$', example: 'alice' })
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, { message: 'to must be a payee handle of letters, digits and ._@-' })
  to: string;
}

export class TransferResponse {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  amount: number;

  @ApiProperty()
  to: string;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

/** Answer of `POST /payments/transfers/challenges` (202): the shape of the OTP module's issue route. */
export class TransferChallengeResponse {
  @ApiProperty({ format: 'uuid', description: 'Verify it on POST /auth/otp/challenges/{id}/verify with the same context' })
  challengeId: string;

  @ApiProperty({ format: 'date-time' })
  expiresAt: string;

  @ApiProperty({ format: 'date-time' })
  resendAvailableAt: string;
}
