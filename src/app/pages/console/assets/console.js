// Operator console (served from /admin/assets): fills the page from the console's JSON routes.
// Everything shown is set with textContent, never as HTML.
'use strict';

(function () {
  var strings = JSON.parse(document.getElementById('console-strings').textContent);

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) { return String(values[k]); });
  }

  function show(el, text) {
    el.textContent = text;
  }

  function failureText(res) {
    if (res.status === 429) return format(strings.wait, { s: res.headers.get('Retry-After') || '60' });
    if (res.status === 401) return strings.expired;
    return strings.failed;
  }

  function send(method, path, body, csrf) {
    var headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (csrf) headers['X-CSRF-Token'] = csrf;
    return fetch(path, { method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  }

  function signIn(form) {
    var status = document.getElementById('sign-in-status');
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      show(status, '');
      send('POST', '/admin/session', { token: form.elements.token.value }).then(function (res) {
        if (res.ok) return window.location.assign('/admin');
        form.elements.token.value = '';
        show(status, res.status === 401 ? strings.wrongToken : failureText(res));
        form.elements.token.focus();
      }, function () { show(status, strings.failed); });
    });
  }

  function fillTable(id, rows, cells) {
    var body = document.querySelector('#' + id + ' tbody');
    body.replaceChildren();
    if (rows.length === 0) {
      var empty = document.createElement('tr');
      var td = document.createElement('td');
      td.colSpan = document.querySelectorAll('#' + id + ' thead th').length;
      td.textContent = strings.none;
      empty.appendChild(td);
      body.appendChild(empty);
      return;
    }
    rows.forEach(function (row) {
      var tr = document.createElement('tr');
      cells(row).forEach(function (cell) {
        var td = document.createElement('td');
        td.textContent = cell === null || cell === undefined ? '' : String(cell);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  function time(iso) {
    return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '';
  }

  function deliveryStatus(d) {
    if (d.status === 'pending' && d.attempts > 0 && d.lastError) return strings.retried;
    return strings[d.status] || d.status;
  }

  function consolePage(csrf) {
    var status = document.getElementById('console-status');
    function get(path, render) {
      return send('GET', path).then(function (res) {
        if (!res.ok) return show(status, failureText(res));
        return res.json().then(render);
      }, function () { show(status, strings.failed); });
    }
    function loadChain() {
      return get('/admin/console/chain', function (c) {
        var el = document.getElementById('chain');
        el.replaceChildren();
        var verdict = document.createElement('span');
        verdict.id = 'chain-verdict';
        verdict.className = c.ok ? 'ok' : 'bad';
        verdict.textContent = c.ok ? strings.chainOk : strings.chainBroken;
        el.append(strings.chain + ': ', verdict, ' · ' + c.rows + ' ' + strings.rows + ' · ' + strings.head + ' #' + c.headSeq + ' ' + c.headHash.slice(0, 16) + '…');
      });
    }
    get('/admin/console/deliveries', function (r) {
      fillTable('deliveries-table', r.deliveries, function (d) {
        return [time(d.createdAt), d.kind, d.purpose, deliveryStatus(d), d.attempts, d.lastError, time(d.finishedAt)];
      });
    });
    get('/admin/console/alerts', function (r) {
      fillTable('alerts-table', r.alerts, function (a) { return [time(a.at), a.rule, a.count, a.threshold]; });
    });
    get('/admin/console/keys', function (k) {
      var dl = document.getElementById('keys');
      dl.replaceChildren();
      var rotation = k.lastRotation ? time(k.lastRotation.at) + ' (' + (k.lastRotation.from || '–') + ' → ' + (k.lastRotation.to || '–') + ')' : strings.never;
      [[strings.signingKey, k.signingKeyId], [strings.verifyingKeys, k.verifyingKeyIds.join(', ')], [strings.lastRotation, rotation]].forEach(function (pair) {
        var dt = document.createElement('dt');
        dt.textContent = pair[0];
        var dd = document.createElement('dd');
        dd.textContent = pair[1];
        dl.append(dt, dd);
      });
    });
    loadChain();

    var form = document.getElementById('audit-form');
    var auditStatus = document.getElementById('audit-status');
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var query = {};
      ['email', 'ip', 'challengeId', 'event'].forEach(function (name) {
        var value = form.elements[name].value.trim();
        if (value) query[name] = value;
      });
      ['from', 'to'].forEach(function (name) {
        var value = form.elements[name].value;
        if (value) query[name] = new Date(value).toISOString(); // datetime-local is the operator's local time
      });
      show(auditStatus, strings.loading);
      send('POST', '/admin/console/audit', query, csrf).then(function (res) {
        if (!res.ok) return show(auditStatus, failureText(res));
        return res.json().then(function (r) {
          fillTable('audit-table', r.events, function (e) { return [e.seq, time(e.at), e.event, e.outcome, e.challengeId, e.purpose, e.ip]; });
          show(auditStatus, format(strings.results, { n: r.events.length }));
          return loadChain();
        });
      }, function () { show(auditStatus, strings.failed); });
    });

    document.getElementById('sign-out').addEventListener('click', function () {
      send('POST', '/admin/session/delete', {}, csrf).then(function () { window.location.assign('/admin'); });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var form = document.getElementById('sign-in');
    if (form) return signIn(form);
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) consolePage(meta.getAttribute('content'));
  });
})();
