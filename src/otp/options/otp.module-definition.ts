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
