import { join } from 'node:path';
import { otpPackageRoot } from '../../core/package-root';

/**
 * The package's own `templates/`, found from the module's own files (the package root
 * above them), never from the working directory.
 */
export function defaultTemplatesDir(): string {
  return join(otpPackageRoot(), 'templates');
}
