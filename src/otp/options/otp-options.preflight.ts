import type { Logger } from '@nestjs/common';
import { OtpModuleOptions } from './otp-options.interface';
import { resolveOtpOptions } from './otp-options.resolver';

const silent = { log: () => undefined, warn: () => undefined } as unknown as Logger;

/**
 * Checks module options the way `OtpModule.forRoot` does at boot, without starting or logging
 * anything: throws the `OtpConfigError` the boot would throw. For a host's pre-flight check that
 * names every misconfiguration of its environment before the app starts.
 */
export function validateOtpOptions(options: OtpModuleOptions): void {
  resolveOtpOptions(options, silent);
}
