import { OtpConfigError } from '../otp.errors';
import type { OtpModuleOptions } from '../otp-options.interface';

/** Token options after defaults and checks. */
export interface ResolvedOtpTokenOptions {
  ttlSeconds: number;
  /** Lower-case header name. */
  headerName: string;
  currentUserEmail?: OtpModuleOptions['currentUserEmail'];
}

export const OTP_TOKEN_OPTIONS = Symbol('OTP_TOKEN_OPTIONS');
export const MAX_TOKEN_TTL_SECONDS = 900;
const HEADER_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const RESERVED_HEADERS = new Set(['authorization', 'cookie', 'host', 'content-type', 'content-length']);

export function resolveOtpTokenOptions(options: OtpModuleOptions): ResolvedOtpTokenOptions {
  const ttlSeconds = options.tokens?.ttlSeconds ?? 300;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 10 || ttlSeconds > MAX_TOKEN_TTL_SECONDS) {
    throw new OtpConfigError(`tokens.ttlSeconds must be an integer from 10 to ${MAX_TOKEN_TTL_SECONDS}`);
  }
  const headerName = (options.tokens?.headerName ?? 'x-otp-token').toLowerCase();
  if (!HEADER_NAME.test(headerName) || RESERVED_HEADERS.has(headerName)) {
    throw new OtpConfigError(`tokens.headerName "${headerName}" is not a usable header name`);
  }
  if (options.currentUserEmail !== undefined && typeof options.currentUserEmail !== 'function') {
    throw new OtpConfigError('currentUserEmail must be a function of the request');
  }
  return { ttlSeconds, headerName, currentUserEmail: options.currentUserEmail };
}
