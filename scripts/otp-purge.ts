/** `npm run otp:purge`: the same as `npx nestjs-email-otp otp:purge` (src/otp/cli), kept for the tests and old runbooks. */
import 'reflect-metadata';
import { runOtpCli } from '../src/otp/cli/otp-cli';

void runOtpCli(['otp:purge', ...process.argv.slice(2)]).then((code) => process.exit(code));
