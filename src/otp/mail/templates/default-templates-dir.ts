import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * The package's own `templates/`, found from this file's folder, never from the
 * working directory: `src/otp/mail/templates` and a compiled `dist/otp/mail/templates`
 * are four levels under the package root, `dist/src/otp/mail/templates` five.
 */
export function defaultTemplatesDir(): string {
  for (const up of ['../../../..', '../../../../..']) {
    const dir = resolve(__dirname, up, 'templates');
    if (existsSync(join(dir, 'locales'))) return dir;
  }
  return resolve(__dirname, '../../../..', 'templates');
}
