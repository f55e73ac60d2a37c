import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The folder of the `nestjs-email-otp` package this file belongs to, found from this file's own
 * location (never the working directory): `src/otp` under ts-jest, `dist/src/otp` in this repo,
 * `node_modules/nestjs-email-otp/dist/src/otp` in a host.
 */
export function otpPackageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'nestjs-email-otp') return dir;
      } catch {
        // not a manifest we can read: keep walking up
      }
    }
    if (dirname(dir) === dir) throw new Error(`nestjs-email-otp: no package.json of the package above ${from}`);
  }
}
