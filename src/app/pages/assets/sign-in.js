// Sign in with an email code: address, then the code; resend after the cooldown.
'use strict';
(function () {
  const P = window.OtpPages;
  const $ = (id) => document.getElementById(id);
  const email = $('email');
  const code = $('code');
  const resend = $('resend');
  const countdown = $('countdown');
  let challenge = null; // { id, email, expiresAt, resendAt }
  let needsPassword = false;
  let timer = null;

  P.codeInput(code);
  if (sessionStorage.getItem('otp-example-flash') === 'signedOut') {
    sessionStorage.removeItem('otp-example-flash');
    P.say(P.msg('signedOut'));
  }

  function tick() {
    const left = challenge ? Math.ceil((challenge.resendAt - Date.now()) / 1000) : 0;
    resend.disabled = left > 0;
    countdown.textContent = left > 0 ? P.msg('resendIn', { seconds: left }) : '';
    if (left <= 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
  }

  function startCountdown(resendAt) {
    challenge.resendAt = resendAt;
    if (timer) clearInterval(timer);
    timer = setInterval(tick, 250);
    tick();
  }

  function accept(r, address) {
    challenge = { id: r.body.challengeId, email: address, expiresAt: Date.parse(r.body.expiresAt), resendAt: 0 };
    startCountdown(Date.parse(r.body.resendAvailableAt));
  }

  async function ask(address) {
    const r = await P.api('POST', '/auth/otp/challenges', { email: address, locale: document.documentElement.lang });
    if (r.status === 202) {
      accept(r, address);
      return true;
    }
    P.say(r.status === 400 ? P.msg('invalidEmail') : P.problem(r), 'error');
    return false;
  }

  $('email-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const address = email.value.trim();
    if (!address || !email.checkValidity()) {
      P.say(P.msg('invalidEmail'), 'error');
      email.focus();
      return;
    }
    if (!(await ask(address))) return;
    P.show('step-email', false);
    P.show('step-code', true);
    P.say(P.msg('codeSent'));
    code.value = '';
    code.focus();
  });

  async function signIn(token) {
    const path = needsPassword ? '/accounts/sessions/password' : '/accounts/sessions';
    const body = needsPassword ? { email: challenge.email, password: $('password').value } : { email: challenge.email };
    const r = await P.api('POST', path, body, { 'x-otp-token': token });
    if (r.status === 201) {
      P.session.set(r.body.sessionToken);
      location.assign('/account');
      return;
    }
    if (r.body && r.body.error === 'password_required') {
      // The code is spent; a password sign-in needs the password and a fresh code.
      needsPassword = true;
      P.show('password-row', true);
      if (await ask(challenge.email)) P.say(P.msg('passwordRequired'), 'error');
      $('password').focus();
      return;
    }
    if (r.status === 401 && needsPassword) {
      // The password was wrong and the code is spent with it: a fresh code for the next try.
      if (await ask(challenge.email)) P.say(P.msg('passwordWrong'), 'error');
      $('password').select();
      return;
    }
    P.say(P.problem(r), 'error');
  }

  $('code-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const digits = P.codeOf(code);
    if (!digits) return;
    const r = await P.api('POST', '/auth/otp/challenges/' + encodeURIComponent(challenge.id) + '/verify', { code: digits });
    if (r.status === 200) return signIn(r.body.token);
    if (r.status === 401 || r.status === 400) {
      // The server answers one way for wrong, expired and used codes (R14); the page knows the expiry it was told.
      P.say(Date.now() >= challenge.expiresAt ? P.msg('expired') : P.msg('wrongCode'), 'error');
      code.select();
      return;
    }
    P.say(P.problem(r), 'error');
  });

  resend.addEventListener('click', async () => {
    const r = await P.api('POST', '/auth/otp/challenges/' + encodeURIComponent(challenge.id) + '/resend', {});
    if (r.status === 202) {
      challenge.expiresAt = Date.parse(r.body.expiresAt);
      startCountdown(Date.parse(r.body.resendAvailableAt));
      P.say(P.msg('resent'));
      code.focus();
      return;
    }
    if (r.status === 429 && r.retryAfter) startCountdown(Date.now() + r.retryAfter * 1000);
    P.say(r.status === 401 ? P.msg('expired') : P.problem(r), 'error');
  });

  $('restart').addEventListener('click', () => {
    challenge = null;
    needsPassword = false;
    P.show('password-row', false);
    P.show('step-code', false);
    P.show('step-email', true);
    P.say('');
    email.focus();
  });
})();
