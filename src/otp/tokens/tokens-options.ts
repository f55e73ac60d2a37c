import { OtpConfigError } from '../core/otp.errors';

/** How `OtpGuard` finds the signed-in user's address on a request (`OtpModuleOptions.currentUserEmail`). */
export type OtpCurrentUserEmail = (request: any) => string | null | undefined | Promise<string | null | undefined>;

/** Proof tokens (`OtpModuleOptions.tokens`): returned by a successful verify, redeemed by `OtpGuard`. */
export interface OtpTokenOptions {
  /**
   * How long a token lives, in seconds: 10 to 900.
   * @default 300
   */
  ttlSeconds?: number;
  /**
   * Request header `OtpGuard` reads the token from (case-insensitive); not `authorization`,
   * which carries sessions, nor `cookie`, `host`, `content-type` or `content-length`.
   * @default 'x-otp-token'
   */
  headerName?: string;
}

/** Token options after defaults and checks. */
export interface ResolvedOtpTokenOptions {
  ttlSeconds: number;
  /** Lower-case header name. */
  headerName: string;
  currentUserEmail?: OtpCurrentUserEmail;
}

export const MAX_TOKEN_TTL_SECONDS = 900;
const HEADER_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const RESERVED_HEADERS = new Set(['authorization', 'cookie', 'host', 'content-type', 'content-length']);

/** Applies the token defaults; refuses a lifetime out of range, an unusable or reserved header, a `currentUserEmail` that is no function. */
export function resolveOtpTokenOptions(tokens: OtpTokenOptions = {}, currentUserEmail?: OtpCurrentUserEmail): ResolvedOtpTokenOptions {
  const ttlSeconds = tokens.ttlSeconds ?? 300;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 10 || ttlSeconds > MAX_TOKEN_TTL_SECONDS) {
    throw new OtpConfigError(`tokens.ttlSeconds must be an integer from 10 to ${MAX_TOKEN_TTL_SECONDS}`);
  }
  const headerName = (tokens.headerName ?? 'x-otp-token').toLowerCase();
  if (!HEADER_NAME.test(headerName) || RESERVED_HEADERS.has(headerName)) {
    throw new OtpConfigError(`tokens.headerName "${headerName}" is not a usable header name`);
  }
  if (currentUserEmail !== undefined && typeof currentUserEmail !== 'function') {
    throw new OtpConfigError('currentUserEmail must be a function of the request');
  }
  return { ttlSeconds, headerName, currentUserEmail };
}
