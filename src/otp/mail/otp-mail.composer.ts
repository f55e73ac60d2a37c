import { randomUUID } from 'node:crypto';
import { summariseUserAgent } from '../net/user-agent-summary';
import type { OtpContextDisplay } from '../core/purpose-options';
import { displayedDetails } from './otp-context-display';
import { ResolvedOtpMailOptions } from './mail-options';
import { OtpMailMessage, OtpNoticeMessage } from './otp-mailer.port';
import { OtpMailRenderer } from './templates/otp-mail.renderer';
import { CodeMailContext, OtpMailTemplate, OtpNoticeTemplate } from './templates/otp-mail.templates';

const MAX_CACHED_FORMATS = 256;

/** A finished message, ready for a transport. Holds the code: never log it. */
export interface ComposedMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  headers: Record<string, string>;
  lang: string;
}

/**
 * Turns port messages into rendered mail: picks the template for the purpose,
 * formats times in the reader's language (UTC), and sets the headers that suit
 * transactional mail. The code appears only in the body, never in the subject,
 * the preheader or a link.
 */
export class OtpMailComposer {
  /** Date formats by requested locale: building one costs far more than rendering the mail. */
  private readonly formats = new Map<string, Intl.DateTimeFormat>();
  private readonly amounts = new Map<string, Intl.NumberFormat>();

  /** `displays`: per purpose, the context fields its mail shows (`purposes.<name>.display`); none otherwise. */
  constructor(
    private readonly renderer: OtpMailRenderer,
    private readonly options: ResolvedOtpMailOptions,
    private readonly displays: Record<string, Record<string, OtpContextDisplay>> = {},
  ) {}

  /**
   * By purpose only, never by whether a message carries a context: the resolved
   * `templateByPurpose` names each declared purpose's template (never `transaction` for a public one).
   */
  templateFor(purpose: string): Exclude<OtpMailTemplate, OtpNoticeTemplate> {
    return (Object.hasOwn(this.options.templateByPurpose, purpose) ? this.options.templateByPurpose[purpose] : undefined) ?? 'generic-code';
  }

  code(m: OtpMailMessage): ComposedMail {
    const lang = this.renderer.resolveLanguage(m.locale);
    const unknown = this.renderer.word(lang, 'code', 'unknown');
    const base: CodeMailContext = {
      ...this.brand(),
      code: m.code,
      validityMinutes: Math.max(1, Math.round((m.expiresAt.getTime() - m.requestedAt.getTime()) / 60_000)),
      expiresAt: this.time(m.expiresAt, m.locale, lang),
      requestedAt: this.time(m.requestedAt, m.locale, lang),
      ip: m.ip ?? unknown,
      browser: summariseUserAgent(m.userAgent) ?? unknown,
    };
    const template = this.templateFor(m.purpose);
    const rendered =
      template === 'transaction'
        ? this.renderer.render('transaction', m.locale, {
          ...base,
          // Only what the purpose declares, typed: a context never chooses what a genuine mail says.
          details: displayedDetails(
            Object.hasOwn(this.displays, m.purpose) ? this.displays[m.purpose] : {},
            m.context,
            lang,
            (value, currency) => this.amount(m.locale, lang, currency).format(value),
          ),
        })
        : template === 'generic-code'
          ? this.renderer.render('generic-code', m.locale, { ...base, purpose: m.purpose })
          : this.renderer.render(template, m.locale, base);
    return this.finish(m.to, m.messageId, rendered);
  }

  notice(n: OtpNoticeMessage): ComposedMail {
    const lang = this.renderer.resolveLanguage(n.locale);
    const unknown = this.renderer.word(lang, 'code', 'unknown');
    if (n.kind === 'new-device-notice') {
      return this.finish(n.to, n.messageId, this.renderer.render('new-device-notice', n.locale, {
        ...this.brand(),
        appUrl: this.options.appUrl.href,
        happenedAt: this.time(n.happenedAt, n.locale, lang),
        browser: n.browser ?? unknown,
        network: n.network ?? unknown,
      }));
    }
    const rendered = this.renderer.render('budget-notice', n.locale, {
      ...this.brand(),
      happenedAt: this.time(n.happenedAt, n.locale, lang),
      ip: n.ip ?? unknown,
      browser: summariseUserAgent(n.userAgent) ?? unknown,
      lockHours: Math.max(1, Math.round(n.lockSeconds / 3600)),
    });
    return this.finish(n.to, n.messageId, rendered);
  }

  private brand() {
    return { serviceName: this.options.serviceName, appHost: this.options.appUrl.host };
  }

  private finish(to: string, id: string | undefined, r: { lang: string; subject: string; text: string; html: string }): ComposedMail {
    const ref = id ?? randomUUID();
    return {
      from: this.options.from,
      to,
      subject: r.subject,
      text: r.text,
      html: r.html,
      lang: r.lang,
      messageId: `<${ref}@${this.options.fromDomain}>`,
      headers: {
        'Auto-Submitted': 'auto-generated',
        'X-Auto-Response-Suppress': 'All',
        // A distinct value per message keeps Gmail and others from threading codes together.
        'X-Entity-Ref-ID': ref,
        'Content-Language': r.lang,
      },
    };
  }

  /** "€1,250.50" in the reader's language; cached and bounded like the date formats. */
  private amount(locale: string | undefined, lang: string, currency: string): Intl.NumberFormat {
    const key = `${locale ?? ''}\u0000${lang}\u0000${currency}`;
    let format = this.amounts.get(key);
    if (!format) {
      const options: Intl.NumberFormatOptions = { style: 'currency', currency };
      try {
        const tag = locale && Intl.NumberFormat.supportedLocalesOf([locale]).length > 0 ? locale : lang;
        format = new Intl.NumberFormat(tag, options);
      } catch {
        format = new Intl.NumberFormat(lang, options);
      }
      if (this.amounts.size < MAX_CACHED_FORMATS) this.amounts.set(key, format);
    }
    return format;
  }

  /** "25 Nov 2026, 17:45 UTC" in the reader's language; the language of the mail when the tag is unknown to Intl. */
  private time(d: Date, locale: string | undefined, lang: string): string {
    const key = `${locale ?? ''}\u0000${lang}`;
    let format = this.formats.get(key);
    if (!format) {
      const options: Intl.DateTimeFormatOptions = { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' };
      try {
        const tag = locale && Intl.DateTimeFormat.supportedLocalesOf([locale]).length > 0 ? locale : lang;
        format = new Intl.DateTimeFormat(tag, options);
      } catch {
        format = new Intl.DateTimeFormat(lang, options); // a tag Intl refuses must not stop the mail
      }
      // Locales come from requests: keep the cache bounded.
      if (this.formats.size < MAX_CACHED_FORMATS) this.formats.set(key, format);
    }
    return `${format.format(d)} UTC`;
  }
}
