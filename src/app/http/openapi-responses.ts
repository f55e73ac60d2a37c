import { applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiPayloadTooLargeResponse,
  ApiProperty,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';

/** Security scheme of `Authorization: Bearer <sessionToken>` (see `buildOpenApiDocument`). */
export const SESSION_SCHEME = 'session';
/** Security scheme of the `X-OTP-Token` header a verified code gives. */
export const OTP_TOKEN_SCHEME = 'otp-token';

/** The error shape every route answers with. */
export class ApiErrorBodyDto {
  @ApiProperty({ example: 'session_required', description: 'Stable machine-readable code' })
  error: string;

  @ApiProperty({ example: 'Sign in first: send Authorization: Bearer <sessionToken>.' })
  message: string;

  @ApiProperty({ type: [String], required: false, description: 'Validation details (400 only)' })
  details?: string[];
}

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } };

/**
 * What a route needs (all of the schemes at once) and its 401: `session_required`
 * without a live session, `otp_required` without a valid `X-OTP-Token`.
 */
export const ApiNeeds = (schemes: string[], unauthorized: string): MethodDecorator =>
  applyDecorators(
    ApiSecurity(Object.fromEntries(schemes.map((s) => [s, []]))),
    ApiUnauthorizedResponse({ description: unauthorized, type: ApiErrorBodyDto }),
  );

/** 403 with its error code. */
export const ApiRefused = (description: string): MethodDecorator => ApiForbiddenResponse({ description, type: ApiErrorBodyDto });

/** The answers of any route that takes a JSON body: 400 (validation), 413, 415. */
export const ApiJsonBody = (): MethodDecorator =>
  applyDecorators(
    ApiBadRequestResponse({ description: 'Malformed JSON, unknown fields or invalid values', type: ApiErrorBodyDto }),
    ApiPayloadTooLargeResponse({ description: 'Body over the size limit', type: ApiErrorBodyDto }),
    ApiUnsupportedMediaTypeResponse({ description: 'A body that is not application/json', type: ApiErrorBodyDto }),
  );

/** A route that sends a code: the module's send limits (429) and its fail-closed rate-limit store (503). */
export const ApiSendsCode = (): MethodDecorator =>
  applyDecorators(
    ApiTooManyRequestsResponse({ description: 'A send limit was reached (`otp_throttled`)', type: ApiErrorBodyDto, headers: RETRY_AFTER }),
    ApiServiceUnavailableResponse({ description: 'The rate-limit store cannot answer (`otp_unavailable`)', type: ApiErrorBodyDto, headers: RETRY_AFTER }),
  );
