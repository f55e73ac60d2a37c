/** `npm run otp:purge`: runs the retention purge once now (the app also runs it on a schedule). */
import { OtpRetentionService } from '../src/otp';
import { runCommand, withAppContext } from './support/app-context';

runCommand(async () => {
  const report = await withAppContext('otp:purge', (app) => app.get(OtpRetentionService).purge());
  console.log(JSON.stringify({ purged: report }));
});
