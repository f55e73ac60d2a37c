import { applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiPayloadTooLargeResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiServiceUnavailableResponse,
  ApiTooManyRequestsResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';

/** The one error shape, as documented in OpenAPI. */
export class OtpErrorBodyDto {
  @ApiProperty({ example: 'otp_throttled', description: 'Stable machine-readable code' })
  error: string;

  @ApiProperty({ example: 'Too many requests. Try again later.' })
  message: string;

  @ApiPropertyOptional({ type: [String], description: 'Validation details (400 only)' })
  details?: string[];
}

/** Answer of the verify route (200): send `token` as `X-OTP-Token` to the route that asked for the code. */
export class OtpProofResponseDto {
  @ApiProperty({ description: 'Single-use token: the `X-OTP-Token` header of the guarded route' })
  token: string;

  @ApiProperty({ example: 'Bearer' })
  tokenType: string;

  @ApiProperty({ format: 'date-time' })
  expiresAt: string;

  @ApiProperty({ example: 'login' })
  purpose: string;

  @ApiProperty({ type: [String], example: ['otp_email'] })
  amr: string[];

  @ApiProperty({ format: 'uuid' })
  challengeId: string;
}

const RETRY_AFTER = {
  'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } },
};

/** 429 with `Retry-After`, as every rate-limited OTP route answers. */
export const ApiOtpThrottled = (): MethodDecorator & ClassDecorator =>
  ApiTooManyRequestsResponse({
    description: 'A rate limit (per IP, per recipient, per recipient and IP, or global) was reached',
    type: OtpErrorBodyDto,
    headers: RETRY_AFTER,
  });

/** The errors every OTP route can answer. */
export const ApiOtpErrors = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    ApiBadRequestResponse({ description: 'Malformed JSON, unknown fields, invalid values, or a query string', type: OtpErrorBodyDto }),
    ApiPayloadTooLargeResponse({ description: 'Body over 16 kB', type: OtpErrorBodyDto }),
    ApiUnsupportedMediaTypeResponse({ description: 'A body that is not application/json', type: OtpErrorBodyDto }),
    ApiOtpThrottled(),
    ApiServiceUnavailableResponse({ description: 'The rate-limit store cannot answer: requests are refused (fail closed)', type: OtpErrorBodyDto, headers: RETRY_AFTER }),
  );
