import { documentStart, html, SafeHtml } from '../page-html';
import { CONSOLE_STRINGS, ConsoleLanguage, ConsoleStrings } from './console.strings';

/** A JSON data block (never executed, so the CSP allows it): `<` is escaped so it cannot close the element. */
const dataBlock = (id: string, value: unknown) =>
  new SafeHtml(`<script type="application/json" id="${id}">${JSON.stringify(value).replace(/</g, '\\u003c')}</script>`);

function shell(lang: ConsoleLanguage, title: string, body: SafeHtml, meta: SafeHtml = html``): string {
  const t = CONSOLE_STRINGS[lang];
  const scripts = ['/admin/assets/console.js'];
  return html`${documentStart({ lang, title, stylesheet: '/admin/assets/console.css', scripts, skip: t.skip, meta })}${body}
${dataBlock('console-strings', t)}
</body>
</html>
`.value;
}

/** The sign-in form: the token is sent once, in a JSON body, by the page's script. */
export function signInPage(lang: ConsoleLanguage): string {
  const t = CONSOLE_STRINGS[lang];
  return shell(lang, t.signInTitle, html`<header><h1>${t.title}</h1></header>
<main id="main">
<form id="sign-in" class="card" method="post" action="/admin/session" novalidate>
<h2>${t.signInTitle}</h2>
<label for="token">${t.tokenLabel}</label>
<input id="token" name="token" type="password" autocomplete="off" required aria-describedby="sign-in-status">
<button type="submit">${t.signIn}</button>
<p id="sign-in-status" role="alert"></p>
</form>
</main>`);
}

/** Suggestions for the event filter (any event name is accepted). */
const CONSOLE_EVENTS = ['challenge.issued', 'challenge.resent', 'verify.succeeded', 'verify.failed', 'challenge.exhausted', 'budget.spent',
  'mail.delivered', 'mail.retried', 'mail.abandoned', 'sign_in.recorded', 'operator.auth_failed', 'alert.raised', 'key.rotated', 'audit.queried'];

const field = (id: string, label: string, attrs: SafeHtml) =>
  html`<div class="field"><label for="${id}">${label}</label><input id="${id}" name="${id}" ${attrs}></div>`;

const table = (id: string, caption: string, columns: string[]) =>
  html`<div class="scroll" tabindex="0" role="region" aria-labelledby="${id}-caption"><table id="${id}"><caption id="${id}-caption">${caption}</caption>
<thead><tr>${columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead><tbody></tbody></table></div>`;

function auditSection(t: ConsoleStrings): SafeHtml {
  return html`<section aria-labelledby="audit-title">
<h2 id="audit-title">${t.auditTitle}</h2>
<p id="chain" role="status" aria-live="polite">${t.chain}: ${t.loading}</p>
<form id="audit-form" class="card" method="post" action="/admin/console/audit" novalidate>
<p class="hint" id="audit-hint">${t.auditHint}</p>
<div class="grid">
${field('email', t.email, html`type="email" autocomplete="off" maxlength="254" aria-describedby="audit-hint"`)}
${field('ip', t.ip, html`type="text" autocomplete="off" maxlength="45" inputmode="decimal"`)}
${field('challengeId', t.challengeId, html`type="text" autocomplete="off" maxlength="36"`)}
${field('event', t.event, html`type="text" autocomplete="off" maxlength="64" list="events"`)}
${field('from', t.from, html`type="datetime-local"`)}
${field('to', t.to, html`type="datetime-local"`)}
</div>
<button type="submit">${t.search}</button>
<p id="audit-status" role="status" aria-live="polite"></p>
</form>
<datalist id="events">${CONSOLE_EVENTS.map((e) => html`<option value="${e}"></option>`)}</datalist>
${table('audit-table', t.auditTitle, ['#', t.time, t.event, t.outcome, t.challengeId, t.purpose, t.ip])}
</section>`;
}

/** The console: read-only views filled by the page's script from the console's JSON routes. */
export function consolePage(lang: ConsoleLanguage, csrfToken: string): string {
  const t = CONSOLE_STRINGS[lang];
  return shell(lang, t.title, html`<header><h1>${t.title}</h1>
<button id="sign-out" type="button">${t.signOut}</button></header>
<main id="main">
<p id="console-status" role="alert"></p>
${auditSection(t)}
<section aria-labelledby="deliveries-title">
<h2 id="deliveries-title">${t.deliveriesTitle}</h2>
${table('deliveries-table', t.deliveriesTitle, [t.time, t.kind, t.purpose, t.status, t.attempts, t.lastError, t.finished])}
</section>
<section aria-labelledby="alerts-title">
<h2 id="alerts-title">${t.alertsTitle}</h2>
${table('alerts-table', t.alertsTitle, [t.time, t.rule, t.count, t.threshold])}
</section>
<section aria-labelledby="keys-title">
<h2 id="keys-title">${t.keysTitle}</h2>
<dl id="keys" class="card"></dl>
</section>
</main>`, html`<meta name="csrf-token" content="${csrfToken}">\n`);
}
