/** `npm run otp:invalidate-all`: the same as `npx nestjs-email-otp otp:invalidate-all` (src/otp/cli), kept for the tests and old runbooks. */
import 'reflect-metadata';
import { runOtpCli } from '../src/otp/cli/otp-cli';

void runOtpCli(['otp:invalidate-all', ...process.argv.slice(2)]).then((code) => process.exit(code));
