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
