// The account page: who is signed in, this session, set or change the password, sign out.
'use strict';
(function () {
  const P = window.OtpPages;
  const $ = (id) => document.getElementById(id);
  const when = (iso) => new Date(iso).toLocaleString(document.documentElement.lang, { dateStyle: 'medium', timeStyle: 'short' });
  let hasPassword = false;

  function signedOut() {
    P.session.clear();
    P.show('account', false);
    P.show('signed-out', true);
  }

  function showPasswordState() {
    $('password-state').textContent = P.msg(hasPassword ? 'hasPassword' : 'noPassword');
    P.show('current-row', hasPassword);
  }

  async function load() {
    if (!P.session.get()) return signedOut();
    const r = await P.api('GET', '/accounts/me', undefined, P.session.headers());
    if (r.status === 401) return signedOut();
    if (r.status !== 200) return P.say(P.problem(r), 'error');
    $('me-email').textContent = r.body.email;
    $('me-created').textContent = when(r.body.createdAt);
    $('me-amr').textContent = r.body.session.amr.join(', ');
    $('me-expires').textContent = when(r.body.session.expiresAt);
    hasPassword = r.body.hasPassword;
    showPasswordState();
    P.show('account', true);
  }

  $('password-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const password = $('new-password').value;
    if (password.length < 12) {
      P.say(P.msg('passwordTooShort'), 'error');
      $('new-password').focus();
      return;
    }
    const body = { password };
    if (hasPassword) body.currentPassword = $('current-password').value;
    const r = await P.api('POST', '/accounts/password', body, P.session.headers());
    if (r.status === 204) {
      hasPassword = true;
      $('new-password').value = '';
      $('current-password').value = '';
      showPasswordState();
      return P.say(P.msg('passwordSaved'));
    }
    const error = r.body && r.body.error;
    if (error === 'invalid_credentials') return P.say(P.msg('currentPasswordWrong'), 'error');
    if (error === 'current_password_required') return P.say(P.msg('currentPasswordRequired'), 'error');
    if (r.status === 401) return signedOut();
    P.say(r.status === 400 ? P.msg('passwordTooShort') : P.problem(r), 'error');
  });

  $('sign-out').addEventListener('click', async () => {
    const r = await P.api('DELETE', '/accounts/sessions/current', undefined, P.session.headers());
    if (r.status !== 204 && r.status !== 401) return P.say(P.problem(r), 'error');
    P.session.clear();
    sessionStorage.setItem('otp-example-flash', 'signedOut');
    location.assign('/');
  });

  load();
})();
