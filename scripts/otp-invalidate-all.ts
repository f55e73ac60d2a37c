/**
 * `npm run otp:invalidate-all`: after restoring a backup, ends every challenge and
 * token that was live at the restore point (R29). Prints counts per table.
 */
import { OtpInvalidationService } from '../src/otp';
import { runCommand, withAppContext } from './support/app-context';

runCommand(async () => {
  const report = await withAppContext('otp:invalidate-all', (app) => app.get(OtpInvalidationService).invalidateAll());
  console.log(JSON.stringify({ invalidated: report }));
});
