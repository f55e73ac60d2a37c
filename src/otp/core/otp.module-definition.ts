import { ConfigurableModuleBuilder } from '@nestjs/common';
import { OtpModuleExtras, OtpModuleOptions } from './otp-options.interface';

export const {
  ConfigurableModuleClass: OtpConfigurableModule,
  MODULE_OPTIONS_TOKEN: OTP_MODULE_OPTIONS,
  OPTIONS_TYPE: OTP_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: OTP_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<OtpModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras<OtpModuleExtras>({ routePrefix: 'auth/otp' }, (definition) => definition)
  .build();

/** Token of the options after defaults and checks (`ResolvedOtpOptions`). */
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
