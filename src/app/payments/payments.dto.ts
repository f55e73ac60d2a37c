import { IsNumber, IsString, Matches, Max, Min } from 'class-validator';

export class CreateTransferDto {
  /** In the account's currency, at most two decimals. */
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 2 })
  @Min(0.01)
  @Max(1_000_000)
  amount: number;

  /** The payee's handle. */
  @IsString()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, { message: 'to must be a payee handle of letters, digits and ._@-' })
  to: string;
}

export interface TransferResponse {
  id: string;
  amount: number;
  to: string;
  createdAt: string;
}

/** Answer of `POST /payments/transfers/challenges` (202): the shape of the OTP module's issue route. */
export interface TransferChallengeResponse {
  challengeId: string;
  expiresAt: string;
  resendAvailableAt: string;
}
