import { DynamicModule, Module } from '@nestjs/common';
import { otpOptionsFromEnv } from '../app.config';
import { loadPageAssets } from './page-assets';
import { loadPageStrings } from './page-strings';
import { PAGES_SETTINGS, PagesController, PagesSettings } from './pages.controller';
import { TransferDetailsDisplay } from './pages.views';

// The module's development sender, shown when MAIL_FROM is unset (the mails then come from it).
const DEV_FROM = '"nestjs-email-otp (development)" <no-reply@localhost>';

function displayLabel(label: unknown, lang: string, field: string): string {
  if (typeof label === 'string') return label;
  const byLang = (label ?? {}) as Record<string, string>;
  return byLang[lang] ?? byLang.en ?? field;
}

/** The `transfer` purpose's display declarations, as its mail (default language) shows them. */
function transferDisplay(env: NodeJS.ProcessEnv): TransferDetailsDisplay {
  const display = (otpOptionsFromEnv(env).purposes?.transfer?.display ?? {}) as Record<string, { currency?: string; label?: unknown }>;
  const lang = 'en';
  return { lang, currency: display.amount?.currency ?? 'EUR', amountLabel: displayLabel(display.amount?.label, lang, 'amount'), toLabel: displayLabel(display.to?.label, lang, 'to') };
}

function serviceNameOf(from: string, appUrl: string | undefined): string {
  const name = /^\s*"([^"]+)"/.exec(from)?.[1];
  return name ?? (appUrl ? new URL(appUrl).host : '127.0.0.1:3000');
}

/** Sign-in, account and transfer pages of the example app (`/`, `/account`, `/transfer`) and their assets. */
@Module({})
export class PagesModule {
  static forEnv(env: NodeJS.ProcessEnv): DynamicModule {
    // Built at init, as OtpModule's options are: a bad setting fails the start the same way.
    const settings = (): PagesSettings => {
      const sender = env.MAIL_FROM || DEV_FROM;
      return Object.freeze({
        serviceName: serviceNameOf(sender, env.APP_URL || undefined),
        sender,
        strings: loadPageStrings(),
        assets: loadPageAssets(),
        transfer: transferDisplay(env),
      });
    };
    return { module: PagesModule, controllers: [PagesController], providers: [{ provide: PAGES_SETTINGS, useFactory: settings }] };
  }
}
