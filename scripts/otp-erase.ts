/** `npm run otp:erase`: the same as `npx nestjs-email-otp otp:erase` (src/otp/cli), kept for the tests and old runbooks. */
import 'reflect-metadata';
import { runOtpCli } from '../src/otp/cli/otp-cli';

void runOtpCli(['otp:erase', ...process.argv.slice(2)]).then((code) => process.exit(code));
