/**
 * Token of the options after defaults and checks, resolved once at boot (`ResolvedOtpOptions`
 * in `options/`). A provider injects it typed with the slice it reads, in its own types.
 */
export const OTP_RESOLVED_OPTIONS = Symbol('OTP_RESOLVED_OPTIONS');

/**
 * Token of the few settings `OtpThrottlerGuard` reads (`OtpRateLimitSettings`),
 * exported for host modules that build the guard, so neither the keys in
 * `OTP_RESOLVED_OPTIONS` nor the Redis URL are injectable outside the module.
 */
export const OTP_RATE_LIMIT_SETTINGS = Symbol('OTP_RATE_LIMIT_SETTINGS');

/** What `OTP_RATE_LIMIT_SETTINGS` provides. */
export interface OtpRateLimitSettings {
  /** Prefix of every rate-limit counter key. */
  readonly keyPrefix: string;
}
