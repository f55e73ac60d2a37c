import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { requestedLocales } from 'nestjs-email-otp';

/** Languages the pages speak: the mail languages (`templates/locales`). */
export const PAGE_LANGUAGES = ['en', 'pt', 'de', 'fr'] as const;
export type PageLanguage = (typeof PAGE_LANGUAGES)[number];
export type PageStrings = Record<string, string>;

/** The project root: the folder above this file holding package.json (src/ under ts-node, dist/src/ when built). */
export function projectRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${from}`);
    dir = up;
  }
  return dir;
}

/**
 * The `pages` group of each mail locale file, English filling any key a language lacks:
 * the pages and the mails read the same `templates/locales/*.json`.
 */
export function loadPageStrings(dir = join(projectRoot(), 'templates', 'locales')): Record<PageLanguage, PageStrings> {
  const read = (lang: string): PageStrings => (JSON.parse(readFileSync(join(dir, `${lang}.json`), 'utf8')) as { pages?: PageStrings }).pages ?? {};
  const en = read('en');
  return Object.fromEntries(PAGE_LANGUAGES.map((lang) => [lang, Object.freeze({ ...en, ...read(lang) })])) as Record<PageLanguage, PageStrings>;
}

/**
 * The best page language for an `Accept-Language` header: by quality, then order;
 * `pt-BR` matches `pt`; English when none matches.
 */
export function negotiateLanguage(header: string | string[] | undefined): PageLanguage {
  return acceptedLanguages(header)[0] ?? 'en';
}

/** Every page language the header asks for, best first, without repeats (empty when none matches). */
export function acceptedLanguages(header: string | string[] | undefined): PageLanguage[] {
  const langs = requestedLocales(header).map((tag) => tag.toLowerCase().split('-')[0]);
  return [...new Set(langs.filter((l): l is PageLanguage => (PAGE_LANGUAGES as readonly string[]).includes(l)))];
}

/** `{{name}}` placeholders filled with the given values (text; the renderer escapes the result). */
export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) => (Object.hasOwn(values, name) ? String(values[name]) : whole));
}
