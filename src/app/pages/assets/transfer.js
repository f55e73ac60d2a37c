// A transfer approved with a code bound to its amount and payee.
'use strict';
(function () {
  const P = window.OtpPages;
  const $ = (id) => document.getElementById(id);
  const details = $('details');
  const code = $('code');
  let pending = null; // { id, amount, to, expiresAt, approved }

  P.codeInput(code);

  /** The bound details as the mail shows them: its labels, its language, the purpose's currency. */
  function showDetails(amount, to) {
    const d = details.dataset;
    const money = new Intl.NumberFormat(d.lang, { style: 'currency', currency: d.currency }).format(amount);
    details.textContent = '';
    for (const [label, value] of [[d.labelAmount, money], [d.labelTo, to]]) {
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.textContent = value;
      details.append(dt, dd);
    }
    return money;
  }

  $('transfer-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const amount = Number($('amount').value.trim().replace(',', '.'));
    const to = $('payee').value.trim();
    const r = await P.api('POST', '/payments/transfers/challenges', { amount, to }, P.session.headers());
    if (r.status === 202) {
      pending = { id: r.body.challengeId, amount, to, expiresAt: Date.parse(r.body.expiresAt), approved: false };
      pending.money = showDetails(amount, to);
      P.show('approve', true);
      P.say(P.msg('codeSent'));
      code.value = '';
      code.focus();
      return;
    }
    if (r.status === 401) return signedOut();
    P.say(r.status === 400 ? P.msg('invalidTransfer') : P.problem(r), 'error');
  });

  async function create(token) {
    const r = await P.api('POST', '/payments/transfers', { amount: pending.amount, to: pending.to },
      Object.assign({ 'x-otp-token': token }, P.session.headers()));
    if (r.status === 201) {
      pending.approved = true;
      return P.say(P.msg('transferDone', { amount: pending.money, to: pending.to }));
    }
    P.say(r.status === 401 ? P.msg('replayed') : P.problem(r), 'error');
  }

  $('approve-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const digits = P.codeOf(code);
    if (!digits) return;
    const context = { amount: pending.amount, to: pending.to };
    const r = await P.api('POST', '/auth/otp/challenges/' + encodeURIComponent(pending.id) + '/verify', { code: digits, context });
    if (r.status === 200) return create(r.body.token);
    if (r.status === 401 || r.status === 400) {
      // One answer from the server for wrong, expired and used codes; the page knows which it already used.
      const key = pending.approved ? 'replayed' : Date.now() >= pending.expiresAt ? 'expired' : 'wrongCode';
      P.say(P.msg(key), 'error');
      return code.select();
    }
    P.say(P.problem(r), 'error');
  });

  function signedOut() {
    P.session.clear();
    P.show('transfer', false);
    P.show('signed-out', true);
  }

  if (P.session.get()) P.show('transfer', true);
  else signedOut();
})();
