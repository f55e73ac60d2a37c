import { PageLanguage, PageStrings } from './page-strings';

/** HTML-escapes text for element content and quoted attribute values. */
export function escapeHtml(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A trusted HTML fragment, built only by `html` (every interpolated value escaped) or by joining fragments. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Interpolation = string | number | SafeHtml | SafeHtml[] | undefined | false;

/** Tagged template: plain values are escaped, `SafeHtml` (and arrays of it) is inserted as it is. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0];
  values.forEach((v, i) => {
    const part = v === undefined || v === false ? '' : Array.isArray(v) ? v.map((x) => x.value).join('') : v instanceof SafeHtml ? v.value : escapeHtml(v);
    out += part + strings[i + 1];
  });
  return new SafeHtml(out);
}

/** `data-msg-<key>` attributes: the strings a page script shows, read from the DOM (no inline script). */
export function messageAttributes(t: PageStrings, keys: readonly string[]): SafeHtml {
  return new SafeHtml(keys.map((k) => ` data-msg-${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}="${escapeHtml(t[k] ?? k)}"`).join(''));
}

export interface PageFrame {
  lang: PageLanguage;
  t: PageStrings;
  serviceName: string;
  title: string;
  /** Same-origin page script under /assets/ (after common.js), or none. */
  script?: string;
  /** Attributes of <main> (escaped already, e.g. from `messageAttributes`). */
  mainAttributes?: SafeHtml;
  body: SafeHtml;
}

/** The start of every page of the app and of the console, up to its skip link: one stylesheet, same-origin scripts only. */
export function documentStart(p: { lang: string; title: string; stylesheet: string; scripts: string[]; skip: string; meta?: SafeHtml }): SafeHtml {
  return html`<!doctype html>
<html lang="${p.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
${p.meta}<title>${p.title}</title>
<link rel="stylesheet" href="${p.stylesheet}">
${p.scripts.map((src) => html`<script src="${src}" defer></script>`)}
</head>
<body>
<a class="skip" href="#main">${p.skip}</a>
`;
}

/** The shell of every page: one stylesheet, same-origin scripts, a skip link, a labelled navigation. */
export function renderPage(p: PageFrame): string {
  const scripts = p.script ? ['/assets/common.js', `/assets/${p.script}`] : [];
  return html`${documentStart({ lang: p.lang, title: `${p.title} · ${p.serviceName}`, stylesheet: '/assets/pages.css', scripts, skip: p.t.skip })}<header class="top">
<p class="brand">${p.serviceName}</p>
<nav aria-label="${p.t.navLabel}"><ul>
<li><a href="/">${p.t.navSignIn}</a></li>
<li><a href="/account">${p.t.navAccount}</a></li>
<li><a href="/transfer">${p.t.navTransfer}</a></li>
</ul></nav>
</header>
<main id="main"${p.mainAttributes}>
<h1>${p.title}</h1>
${p.body}
</main>
</body>
</html>
`.value;
}
