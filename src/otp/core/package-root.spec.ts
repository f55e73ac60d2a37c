import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { resolveOtpMailOptions } from '../mail/mail-options';
import { otpPackageRoot } from './package-root';

describe('templates resolve from the package itself, never the working directory', () => {
  const repo = resolve(__dirname, '../../..');
  const cwd = process.cwd();
  let elsewhere: string;
  beforeAll(() => {
    elsewhere = mkdtempSync(join(tmpdir(), 'otp-cwd-'));
  });
  afterAll(() => {
    process.chdir(cwd);
    rmSync(elsewhere, { recursive: true, force: true });
  });

  it('from src under ts-jest, with the working directory somewhere else', () => {
    process.chdir(elsewhere);
    expect(otpPackageRoot()).toBe(repo);
    const dir = resolveOtpMailOptions({}, false).templatesDir;
    expect(dir).toBe(join(repo, 'templates'));
    expect(existsSync(join(dir, 'locales'))).toBe(true);
  });

  it('from the compiled layouts: dist/lib/src/otp/mail (this repo, a host\'s node_modules) and dist/src/otp/mail', () => {
    expect(otpPackageRoot(join(repo, 'dist/lib/src/otp/mail'))).toBe(repo);
    expect(otpPackageRoot(join(repo, 'dist/src/otp/mail'))).toBe(repo);
    expect(() => otpPackageRoot(elsewhere)).toThrow(/no package.json of the package above/);
  });
});
