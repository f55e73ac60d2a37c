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
 * Token of the resolved rate-limit settings alone (`ResolvedOtpOptions['rateLimits']`):
 * what `OtpThrottlerGuard` needs, exported for host modules that build the guard,
 * so the keys in `OTP_RESOLVED_OPTIONS` never leave the module.
 */
export const OTP_RATE_LIMIT_SETTINGS = Symbol('OTP_RATE_LIMIT_SETTINGS');
