import { applyDecorators } from '@nestjs/common';
import { ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ApiErrorBodyDto, ApiJsonBody } from '../../http/openapi-responses';

const RETRY_AFTER = { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer' } } };

/**
 * How a console route is documented: 404 without `OTP_ADMIN_TOKEN` (or on the public port with
 * `OPERATOR_PORT`), the operator throttler's 429, and for session routes the 401 and the CSRF 403.
 */
export function ApiConsole(summary: string, opts: { session: boolean; body?: boolean; html?: boolean; throttled?: boolean }): MethodDecorator {
  return applyDecorators(
    ApiTags('operator console'),
    ApiOperation({ summary }),
    ...(opts.html ? [ApiProduces(summary.includes('stylesheet') ? 'text/css' : summary.includes('script') ? 'text/javascript' : 'text/html')] : []),
    ApiOkResponse({ description: opts.html ? 'The file (no-store, strict CSP)' : 'The data (no-store)' }),
    ApiNotFoundResponse({ description: 'The console is off (`OTP_ADMIN_TOKEN` unset), or this is the public port while `OPERATOR_PORT` is set', type: ApiErrorBodyDto }),
    ...(opts.throttled === false ? [] : [ApiTooManyRequestsResponse({ description: 'The `operator` throttler, counted before authentication', type: ApiErrorBodyDto, headers: RETRY_AFTER })]),
    ...(opts.body ? [ApiJsonBody()] : []),
    ...(opts.session
      ? [
          ApiUnauthorizedResponse({ description: 'No live console session (cookie `otp_console`, `__Host-otp_console` in production)', type: ApiErrorBodyDto }),
          ...(opts.body !== undefined ? [ApiForbiddenResponse({ description: 'Missing or wrong `X-CSRF-Token`', type: ApiErrorBodyDto })] : []),
        ]
      : []),
  );
}
