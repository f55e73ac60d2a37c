import { html, messageAttributes, SafeHtml } from './page-html';
import { fill, PageStrings } from './page-strings';

/** How the transfer mail shows each bound field (the `transfer` purpose's `display`), in the mail's language. */
export interface TransferDetailsDisplay {
  /** The mail's language: the transfer route sends no locale, so its mail is in the default one. */
  lang: string;
  currency: string;
  amountLabel: string;
  toLabel: string;
}

const SIGN_IN_MESSAGES = ['invalidEmail', 'codeSent', 'resent', 'wrongCode', 'codeFormat', 'expired', 'tooMany', 'failed', 'resendIn', 'passwordRequired', 'passwordWrong', 'signedOut'] as const;
const ACCOUNT_MESSAGES = ['passwordSaved', 'passwordTooShort', 'currentPasswordWrong', 'currentPasswordRequired', 'tooMany', 'failed', 'hasPassword', 'noPassword'] as const;
const TRANSFER_MESSAGES = ['invalidTransfer', 'codeSent', 'wrongCode', 'codeFormat', 'expired', 'replayed', 'transferDone', 'tooMany', 'failed'] as const;

function codeField(t: PageStrings): SafeHtml {
  return html`<label for="code">${t.codeLabel}</label>
<input id="code" name="code" type="text" autocomplete="one-time-code" inputmode="numeric" required maxlength="32" spellcheck="false" aria-describedby="code-help">
<p id="code-help" class="help">${t.codeHelp}</p>`;
}

const messageRegion = html`<p id="message" class="message" aria-live="polite"></p>`;

function signedOutSection(t: PageStrings): SafeHtml {
  return html`<section id="signed-out" hidden><p>${t.notSignedIn}</p><p><a href="/">${t.signInLink}</a></p></section>`;
}

export function signInBody(t: PageStrings, sender: string): { body: SafeHtml; attributes: SafeHtml } {
  const body = html`<section id="step-email">
<p>${t.signInIntro}</p>
<form id="email-form" novalidate>
<label for="email">${t.emailLabel}</label>
<input id="email" name="email" type="email" autocomplete="email" required maxlength="254" aria-describedby="email-help">
<p id="email-help" class="help">${fill(t.sender, { sender })}</p>
<button type="submit">${t.sendCode}</button>
</form>
</section>
<section id="step-code" hidden aria-labelledby="code-heading">
<h2 id="code-heading">${t.codeHeading}</h2>
<p>${t.codeSent} ${fill(t.sender, { sender })}</p>
<form id="code-form" novalidate>
${codeField(t)}
<div id="password-row" hidden>
<label for="password">${t.passwordLabel}</label>
<input id="password" name="password" type="password" autocomplete="current-password" maxlength="128">
</div>
<button type="submit">${t.verify}</button>
</form>
<p class="actions"><button type="button" id="resend" class="secondary" disabled>${t.resend}</button> <span id="countdown" class="help"></span></p>
<p><button type="button" id="restart" class="link">${t.otherAddress}</button></p>
</section>
${messageRegion}`;
  return { body, attributes: messageAttributes(t, SIGN_IN_MESSAGES) };
}

export function accountBody(t: PageStrings): { body: SafeHtml; attributes: SafeHtml } {
  const body = html`${signedOutSection(t)}
<section id="account" hidden>
<dl class="facts">
<dt>${t.signedInAs}</dt><dd id="me-email"></dd>
<dt>${t.memberSince}</dt><dd id="me-created"></dd>
</dl>
<h2>${t.sessionHeading}</h2>
<dl class="facts">
<dt>${t.sessionMethod}</dt><dd id="me-amr"></dd>
<dt>${t.sessionExpires}</dt><dd id="me-expires"></dd>
</dl>
<p><button type="button" id="sign-out">${t.signOut}</button></p>
<h2>${t.passwordHeading}</h2>
<p id="password-state"></p>
<form id="password-form" novalidate>
<div id="current-row" hidden>
<label for="current-password">${t.currentPassword}</label>
<input id="current-password" name="currentPassword" type="password" autocomplete="current-password" maxlength="128">
</div>
<label for="new-password">${t.newPassword}</label>
<input id="new-password" name="password" type="password" autocomplete="new-password" required minlength="12" maxlength="128">
<button type="submit">${t.setPassword}</button>
</form>
<p><a href="/transfer">${t.navTransfer}</a></p>
</section>
${messageRegion}`;
  return { body, attributes: messageAttributes(t, ACCOUNT_MESSAGES) };
}

export function transferBody(t: PageStrings, d: TransferDetailsDisplay): { body: SafeHtml; attributes: SafeHtml } {
  const body = html`${signedOutSection(t)}
<section id="transfer" hidden>
<form id="transfer-form" novalidate>
<label for="amount">${fill(t.amountLabel, { currency: d.currency })}</label>
<input id="amount" name="amount" type="text" inputmode="decimal" required maxlength="12" autocomplete="off">
<label for="payee">${t.payeeLabel}</label>
<input id="payee" name="to" type="text" required maxlength="64" autocomplete="off" spellcheck="false">
<button type="submit">${t.askApproval}</button>
</form>
<section id="approve" hidden aria-labelledby="approve-heading">
<h2 id="approve-heading">${t.approveHeading}</h2>
<p>${t.approveIntro}</p>
<dl id="details" class="facts details" data-lang="${d.lang}" data-currency="${d.currency}" data-label-amount="${d.amountLabel}" data-label-to="${d.toLabel}"></dl>
<form id="approve-form" novalidate>
${codeField(t)}
<button type="submit">${t.approve}</button>
</form>
</section>
</section>
${messageRegion}`;
  return { body, attributes: messageAttributes(t, TRANSFER_MESSAGES) };
}
