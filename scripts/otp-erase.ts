/**
 * `npm run otp:erase -- --email <address>`: erasure (GDPR Art 17) of everything
 * linkable to the address, on DATABASE_URL with the app's keys. Prints counts per table.
 */
import { OtpErasureService } from '../src/otp';
import { runCommand, withAppContext } from './support/app-context';

runCommand(async () => {
  const i = process.argv.indexOf('--email');
  const email = i >= 0 ? process.argv[i + 1] : undefined;
  if (!email || !email.includes('@')) throw new Error('usage: npm run otp:erase -- --email <address>');
  const report = await withAppContext('otp:erase', (app) => app.get(OtpErasureService).eraseEmail(email));
  console.log(JSON.stringify({ erased: report }));
});
