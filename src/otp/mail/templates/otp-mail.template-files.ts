import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { OtpConfigError } from '../../core/otp.errors';
import { OTP_MAIL_TEMPLATES } from './otp-mail.templates';

/** Strings of one locale file: group -> key -> handlebars source. */
export type LocaleStrings = Record<string, Record<string, string>>;

const PART = /^(html|text)-[\w-]+\.hbs$/;

/**
 * The files of a template set: `templatesDir`, with each file of the optional overlay
 * folder replacing the file at the same relative path. Every problem is one
 * `OtpConfigError` naming the file, at start-up.
 */
export class OtpMailTemplateFiles {
  private readonly overlayFiles: Set<string>;

  constructor(private readonly dir: string, private readonly overlay?: string) {
    this.overlayFiles = new Set(overlay ? listFiles(overlay, overlay) : []);
    for (const file of this.overlayFiles) {
      if (!isTemplateFile(file)) {
        throw new OtpConfigError(`mail templates overlay: ${join(overlay!, file)} is not a template file (expected <template>.html.hbs/.text.hbs, partials/html-*.hbs or text-*.hbs, locales/<lang>.json)`);
      }
    }
  }

  /** Contents of `file` (a path relative to the set), from the overlay if it holds it. */
  read(file: string): string {
    const path = this.path(file);
    if (!existsSync(path)) throw new OtpConfigError(`mail templates: ${path} is missing`);
    return readFileSync(path, 'utf8');
  }

  /** Where `file` is read from. */
  path(file: string): string {
    return this.overlayFiles.has(file) ? join(this.overlay!, file) : join(this.dir, file);
  }

  /** Names of the files in `folder` (`partials`, `locales`), of the set and the overlay. */
  list(folder: string): string[] {
    const own = join(this.dir, folder);
    if (!existsSync(own)) throw new OtpConfigError(`mail templates: ${own} is missing`);
    const names = new Set(readdirSync(own));
    for (const f of this.overlayFiles) if (f.startsWith(`${folder}/`)) names.add(f.slice(folder.length + 1));
    return [...names].sort();
  }

  /** A locale file, checked: JSON, groups of strings, and (`known`) no group or key the default locale lacks. */
  locale(file: string, known?: LocaleStrings): LocaleStrings {
    let parsed: unknown;
    try {
      parsed = JSON.parse(this.read(file));
    } catch (e) {
      if (e instanceof OtpConfigError) throw e;
      throw new OtpConfigError(`mail templates: ${this.path(file)} is not valid JSON`);
    }
    if (!isObject(parsed)) throw new OtpConfigError(`mail templates: ${this.path(file)} must be an object of string groups`);
    for (const [group, strings] of Object.entries(parsed)) {
      if (!isObject(strings)) throw new OtpConfigError(`mail templates: ${this.path(file)}: "${group}" must be an object of strings`);
      for (const [key, value] of Object.entries(strings)) {
        if (typeof value !== 'string') throw new OtpConfigError(`mail templates: ${this.path(file)}: ${group}.${key} must be a string`);
        if (known && known[group]?.[key] === undefined) {
          throw new OtpConfigError(`mail templates: ${this.path(file)}: ${group}.${key} is not a string of the default locale`);
        }
      }
    }
    return parsed as LocaleStrings;
  }
}

function isTemplateFile(file: string): boolean {
  if (file.startsWith('locales/')) return /^locales\/[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*\.json$/.test(file);
  if (file.startsWith('partials/')) return PART.test(file.slice('partials/'.length));
  return OTP_MAIL_TEMPLATES.some((t) => file === `${t}.html.hbs` || file === `${t}.text.hbs`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function listFiles(root: string, dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new OtpConfigError(`mail templates overlay: ${dir} is not a folder`);
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(root, join(dir, e.name)) : [relative(root, join(dir, e.name)).split(sep).join('/')],
  );
}
