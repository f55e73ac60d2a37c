import type { DevMailboxEntry, DevMailboxMailer } from './dev-mailbox.mailer';
import type { OtpMailMessage, OtpNoticeMessage } from './otp-mailer.port';
import { requestedLocales } from '../i18n/accept-language';

export { requestedLocales };

/** The mailbox page: no script, no style, nothing from elsewhere, never framed. */
export const MAILBOX_PAGE_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'";

/**
 * A mail's own HTML as its recipient sees it: its inline styles apply, nothing runs (`sandbox`
 * with no `allow-scripts`), nothing is fetched, and it is never framed.
 */
export const MAIL_PART_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'none'; sandbox";

const esc = (value: unknown): string => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Whether a request's `Accept` prefers HTML over JSON (a browser's navigation); no Accept, or `*` / `*`: JSON. */
export function prefersHtml(accept: string | string[] | undefined): boolean {
  const ranges = (Array.isArray(accept) ? accept.join(',') : accept ?? '').split(',').slice(0, 32).map((part, index) => {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([01](?:\.\d{0,3})?)\s*$/.exec(p)).find(Boolean);
    return { type: type.trim(), q: q ? Number(q[1]) : 1, index };
  });
  const best = (types: string[]) => ranges.filter((r) => types.includes(r.type) && r.q > 0).sort((a, b) => b.q - a.q || a.index - b.index)[0];
  const html = best(['text/html', 'application/xhtml+xml']);
  const json = best(['application/json']);
  return html !== undefined && (json === undefined || html.q > json.q || (html.q === json.q && html.index < json.index));
}


/** The languages a mail is shown in: its own first, then each one asked that the templates have. */
function languagesOf(mailbox: DevMailboxMailer, id: string, asked: string[]): string[] {
  const own = mailbox.render(id)?.lang;
  const langs = own ? [own] : [];
  for (const tag of asked) {
    const lang = mailbox.render(id, tag)?.lang;
    if (lang && !langs.includes(lang) && lang.toLowerCase().startsWith(tag.toLowerCase().split('-')[0])) langs.push(lang);
  }
  return langs;
}

function partLinks(mailbox: DevMailboxMailer, id: string, asked: string[]): string {
  return languagesOf(mailbox, id, asked)
    .map((lang) => `<li><a href="/dev/mailbox/${esc(id)}/${esc(lang)}/html" hreflang="${esc(lang)}">HTML (${esc(lang)})</a> · <a href="/dev/mailbox/${esc(id)}/${esc(lang)}/text" hreflang="${esc(lang)}">text (${esc(lang)})</a></li>`)
    .join('');
}

function codeItem(mailbox: DevMailboxMailer, m: DevMailboxEntry<OtpMailMessage>, asked: string[]): string {
  const subject = mailbox.render(m.id)?.subject ?? m.purpose;
  return `<li><article aria-label="${esc(subject)}"><h3>${esc(subject)}</h3>
<dl><dt>To</dt><dd>${esc(m.to)}</dd><dt>Code</dt><dd><strong class="code">${esc(m.code)}</strong></dd>
<dt>Purpose</dt><dd>${esc(m.purpose)}</dd><dt>Challenge</dt><dd><code>${esc(m.challengeId)}</code></dd>
<dt>Received</dt><dd><time datetime="${m.receivedAt.toISOString()}">${m.receivedAt.toISOString()}</time></dd>
<dt>Expires</dt><dd><time datetime="${m.expiresAt.toISOString()}">${m.expiresAt.toISOString()}</time></dd></dl>
<ul aria-label="Open this mail">${partLinks(mailbox, m.id, asked)}</ul></article></li>`;
}

function noticeItem(mailbox: DevMailboxMailer, n: DevMailboxEntry<OtpNoticeMessage>, asked: string[]): string {
  const subject = mailbox.render(n.id)?.subject ?? n.kind;
  return `<li><article aria-label="${esc(subject)}"><h3>${esc(subject)}</h3>
<dl><dt>To</dt><dd>${esc(n.to)}</dd><dt>Kind</dt><dd>${esc(n.kind)}</dd>
<dt>Received</dt><dd><time datetime="${n.receivedAt.toISOString()}">${n.receivedAt.toISOString()}</time></dd></dl>
<ul aria-label="Open this mail">${partLinks(mailbox, n.id, asked)}</ul></article></li>`;
}

/** The mailbox as a page: code mails, then security notices, newest first; each opens in every language asked. */
export function renderMailboxPage(mailbox: DevMailboxMailer, acceptLanguage: string | string[] | undefined): string {
  const asked = requestedLocales(acceptLanguage);
  const entries = mailbox.entries();
  const codes = entries.codes.map((m) => codeItem(mailbox, m, asked)).join('\n');
  const notices = entries.notices.map((n) => noticeItem(mailbox, n, asked)).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Development mailbox</title>
</head>
<body>
<main>
<h1>Development mailbox</h1>
<p>Mails the app sent, newest first, kept in memory on this machine only (never in production). Reload to see new ones.</p>
<section aria-labelledby="codes"><h2 id="codes">Codes (${entries.codes.length})</h2>
${codes ? `<ol class="mails">${codes}</ol>` : '<p>No mail yet.</p>'}
</section>
<section aria-labelledby="notices"><h2 id="notices">Security notices (${entries.notices.length})</h2>
${notices ? `<ol class="mails">${notices}</ol>` : '<p>No notice yet.</p>'}
</section>
</main>
</body>
</html>
`;
}
