// Shared by the pages' scripts: JSON calls to this origin, messages from data-msg-* attributes.
'use strict';
(function () {
  const main = document.getElementById('main');
  const SESSION_KEY = 'otp-example-session';

  /** A message of the page, `{{name}}` placeholders filled (text only: shown with textContent). */
  function msg(key, values) {
    const text = main.dataset['msg' + key.charAt(0).toUpperCase() + key.slice(1)] || key;
    return text.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name) => (values && name in values ? String(values[name]) : whole));
  }

  /** Shows one message in the page's live region; kind is 'info' or 'error'. */
  function say(text, kind) {
    const region = document.getElementById('message');
    region.textContent = text;
    region.dataset.kind = kind || 'info';
  }

  /** A JSON call: { status, body, retryAfter } (never throws on an HTTP error; a network error is status 0). */
  async function api(method, path, body, headers) {
    const init = { method, headers: Object.assign({ accept: 'application/json' }, headers || {}), credentials: 'same-origin' };
    if (body !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    try {
      const res = await fetch(path, init);
      const text = await res.text();
      let json = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch (e) {
        json = null;
      }
      const retry = Number(res.headers.get('retry-after'));
      return { status: res.status, body: json, retryAfter: Number.isFinite(retry) && retry > 0 ? Math.ceil(retry) : 0 };
    } catch (e) {
      return { status: 0, body: null, retryAfter: 0 };
    }
  }

  /** The session token of this tab (sessionStorage: gone when the tab closes). */
  const session = {
    get: () => sessionStorage.getItem(SESSION_KEY),
    set: (token) => sessionStorage.setItem(SESSION_KEY, token),
    clear: () => sessionStorage.removeItem(SESSION_KEY),
    headers: () => ({ authorization: 'Bearer ' + sessionStorage.getItem(SESSION_KEY) }),
  };

  /** Digits only, so a pasted "123 456" or "123-456" is the code. */
  function digitsOf(value) {
    return String(value).replace(/\D+/g, '');
  }

  /** Keeps a code field to its digits as the person types or pastes. */
  function codeInput(input) {
    input.addEventListener('input', () => {
      const digits = digitsOf(input.value).slice(0, 10);
      if (digits !== input.value) input.value = digits;
    });
  }

  /** The code typed in a field, or null after saying it is too short and focusing the field. */
  function codeOf(input) {
    const digits = digitsOf(input.value);
    if (digits.length >= 6) return digits;
    say(msg('codeFormat'), 'error');
    input.focus();
    return null;
  }

  /** The message for a refused call that is not about the code itself. */
  function problem(r) {
    if (r.status === 429) return msg('tooMany', { seconds: r.retryAfter || 60 });
    return msg('failed');
  }

  function show(id, visible) {
    document.getElementById(id).hidden = !visible;
  }

  window.OtpPages = { msg, say, api, session, digitsOf, codeInput, codeOf, problem, show };
})();
