/** `npm run audit:verify`: the same as `npx nestjs-email-otp audit:verify` (src/otp/cli), kept for the tests and old runbooks. */
import 'reflect-metadata';
import { runOtpCli } from '../src/otp/cli/otp-cli';

void runOtpCli(['audit:verify', ...process.argv.slice(2)]).then((code) => process.exit(code));
