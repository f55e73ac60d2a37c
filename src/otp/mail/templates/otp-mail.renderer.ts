import { basename } from 'node:path';
import Handlebars from 'handlebars';
import { OtpConfigError } from '../../core/otp.errors';
import {
  OTP_MAIL_TEMPLATES,
  OtpMailContexts,
  OtpMailTemplate,
  RenderedMail,
  STRING_GROUPS,
} from './otp-mail.templates';
import { fieldString } from './otp-mail.field-string';
import { OtpMailTemplateFiles } from './otp-mail.template-files';

type Strings = Record<string, Record<string, string>>;
type Mode = 'html' | 'text';
/** A localised string: a template, or the text itself when it has no placeholder. */
type StringPart = [key: string, render: ((context: object) => string) | string];

/** Triple-stash and `{{&` print unescaped: refused in every template and string. */
const UNESCAPED = /\{\{\{|\{\{~?\s*&/;

/**
 * Renders the typed mail templates of `templates/`: handlebars in strict mode
 * (a missing field throws), HTML escaped, each in a private handlebars instance.
 * Localised strings are themselves small templates, rendered against the same
 * context, so a placeholder in a translation is escaped like any other field.
 * Everything is compiled once at start-up: a broken template fails the boot.
 */
export class OtpMailRenderer {
  private readonly locales = new Map<string, Strings>();
  private readonly envs: Record<Mode, typeof Handlebars> = { html: Handlebars.create(), text: Handlebars.create() };
  private readonly templates = new Map<string, HandlebarsTemplateDelegate>();
  private readonly strings = new Map<string, HandlebarsTemplateDelegate>();
  /** The strings of each language, template and mode, with the default language filled in. */
  private readonly parts = new Map<string, StringPart[]>();

  /**
   * `dir`: the whole set; `overlay`: a folder whose files replace the same files of `dir`.
   * Every file is read, checked and compiled now: a problem fails the boot, naming the file.
   */
  constructor(dir: string, readonly defaultLocale = 'en', overlay?: string) {
    const files = new OtpMailTemplateFiles(dir, overlay);
    const localeFiles = files.list('locales').filter((f) => f.endsWith('.json'));
    const defaultFile = localeFiles.find((f) => basename(f, '.json').toLowerCase() === defaultLocale.toLowerCase());
    if (!defaultFile) throw new OtpConfigError(`mail templates: no locale file for the default "${defaultLocale}"`);
    const known = files.locale(`locales/${defaultFile}`);
    for (const f of localeFiles) {
      this.locales.set(basename(f, '.json').toLowerCase(), f === defaultFile ? known : files.locale(`locales/${f}`, known));
    }
    for (const mode of ['html', 'text'] as const) {
      for (const f of files.list('partials').filter((p) => p.startsWith(`${mode}-`) && p.endsWith('.hbs'))) {
        const file = `partials/${f}`;
        this.envs[mode].registerPartial(basename(f, '.hbs'), this.compile(mode, files.read(file), files.path(file)));
      }
      for (const t of OTP_MAIL_TEMPLATES) {
        const file = `${t}.${mode}.hbs`;
        this.templates.set(`${t}.${mode}`, this.compile(mode, files.read(file), files.path(file)));
      }
    }
    // Localised strings are compiled now too, so a broken string fails the boot.
    for (const lang of this.locales.keys()) for (const t of OTP_MAIL_TEMPLATES) for (const mode of ['html', 'text'] as const) this.stringParts(lang, t, mode);
  }

  /** Languages with a locale file. */
  get languages(): string[] {
    return [...this.locales.keys()];
  }

  /** `pt-BR` -> `pt-br` if present, else `pt`, else the default language. */
  resolveLanguage(locale: string | undefined): string {
    const parts = (locale ?? '').toLowerCase().split(/[-_]/).filter(Boolean);
    for (let n = parts.length; n > 0; n--) {
      const tag = parts.slice(0, n).join('-');
      if (this.locales.has(tag)) return tag;
    }
    return this.defaultLocale.toLowerCase();
  }

  /** One localised string (text form), e.g. the word for "unknown"; falls back to the default language. */
  word(lang: string, group: string, key: string): string {
    return this.locales.get(lang)?.[group]?.[key] ?? this.locales.get(this.defaultLocale.toLowerCase())![group][key];
  }

  render<T extends OtpMailTemplate>(template: T, locale: string | undefined, context: OtpMailContexts[T]): RenderedMail {
    const lang = this.resolveLanguage(locale);
    const out = (mode: Mode, t: Record<string, Handlebars.SafeString | string>) => this.templates.get(`${template}.${mode}`)!({ ...context, lang, t });
    const textStrings = this.localised(lang, template, 'text', context);
    const subject = textStrings.subject.toString().replace(/[\r\n]+/g, ' ').trim();
    return { lang, subject, text: tidyText(out('text', textStrings)), html: out('html', this.localised(lang, template, 'html', context)) };
  }

  private localised(lang: string, template: OtpMailTemplate, mode: Mode, context: object): Record<string, Handlebars.SafeString | string> {
    const t: Record<string, Handlebars.SafeString | string> = {};
    for (const [key, render] of this.stringParts(lang, template, mode)) {
      const rendered = typeof render === 'string' ? render : render(context);
      t[key] = mode === 'html' ? new Handlebars.SafeString(rendered) : rendered;
    }
    return t;
  }

  /** Compiled once per language, template and mode (a fixed, small set: `lang` is a resolved language). */
  private stringParts(lang: string, template: OtpMailTemplate, mode: Mode): StringPart[] {
    const partsKey = `${lang}\u0000${template}\u0000${mode}`;
    const cached = this.parts.get(partsKey);
    if (cached) return cached;
    const parts: StringPart[] = [];
    for (const group of STRING_GROUPS[template]) {
      const fallback = this.locales.get(this.defaultLocale.toLowerCase())![group] ?? {};
      const own = this.locales.get(lang)?.[group] ?? {};
      for (const key of Object.keys(fallback)) {
        const source = own[key] ?? fallback[key];
        const cacheKey = `${mode}\u0000${source}`;
        let fn = this.strings.get(cacheKey);
        if (!fn) {
          fn = this.compile(mode, source, `${lang}.${group}.${key}`);
          this.strings.set(cacheKey, fn);
        }
        // Without a mustache, handlebars prints the source as it is, in either mode; with plain fields only, so does fieldString.
        parts.push([key, source.includes('{{') ? fieldString(source, mode, fn) ?? fn : source]);
      }
    }
    this.parts.set(partsKey, parts);
    return parts;
  }

  private compile(mode: Mode, source: string, name: string): HandlebarsTemplateDelegate {
    if (UNESCAPED.test(source)) throw new OtpConfigError(`mail template ${name} uses unescaped output ({{{ }}} or {{& }})`);
    try {
      Handlebars.parse(source); // compile() is lazy: a syntax error would otherwise surface at the first send
    } catch (e) {
      throw new OtpConfigError(`mail template ${name} does not parse: ${String((e as Error).message).split('\n')[0]}`);
    }
    // Text parts are not HTML: escaping them would print entities; they are never rendered as HTML.
    return this.envs[mode].compile(source, { strict: true, noEscape: mode === 'text' });
  }
}

function tidyText(text: string): string {
  return `${text.replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim()}\n`;
}
