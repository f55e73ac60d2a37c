import type { OtpEvent } from '../events/otp-event';
import { OtpAlertRules } from './otp-alert.rules';
import type { OtpAlert } from './otp-alert.types';
import { resolveMonitoringOptions } from './monitoring-options';

describe('OtpAlertRules (R18), with an injected clock', () => {
  let now: number;
  let alerts: OtpAlert[];
  let rules: OtpAlertRules;
  const ev = (e: Partial<OtpEvent> & { name: string }): OtpEvent => ({ outcome: 'failure', at: new Date(now), ...e });
  const minutes = (m: number) => (now += m * 60_000);

  beforeEach(() => {
    now = Date.UTC(2026, 0, 1);
    alerts = [];
    rules = new OtpAlertRules(resolveMonitoringOptions({ clock: () => now }), (a) => alerts.push(a));
  });

  it('one IP asking codes for 10 different addresses within 10 minutes trips ip_many_recipients once', () => {
    for (let i = 0; i < 15; i++) {
      rules.onEvent(ev({ name: 'challenge.issued', outcome: 'success', ip: '203.0.113.9', recipientIndex: `r${i}` }));
      minutes(0.5);
    }
    expect(alerts.map((a) => a.alert)).toEqual(['ip_many_recipients']);
    expect(alerts[0]).toMatchObject({ ip: '203.0.113.9', count: 10, threshold: 10, windowSeconds: 600, severity: 'warning' });
    expect(alerts[0].at).toMatch(/Z$/);
  });

  it('a spike of 50 failed verifications within 5 minutes trips verify_failure_spike', () => {
    for (let i = 0; i < 60; i++) {
      rules.onEvent(ev({ name: 'verify.failed', recipientIndex: `r${i % 7}` }));
      minutes(0.05);
    }
    expect(alerts.map((a) => a.alert)).toEqual(['verify_failure_spike']);
    expect(alerts[0]).toMatchObject({ count: 50, severity: 'critical' });
  });

  it('a spent failure budget trips budget_spent for that recipient, once per window', () => {
    rules.onEvent(ev({ name: 'budget.spent', recipientIndex: 'victim', ip: '198.51.100.4' }));
    rules.onEvent(ev({ name: 'budget.spent', recipientIndex: 'victim' }));
    rules.onEvent(ev({ name: 'budget.spent', recipientIndex: 'other' }));
    minutes(61);
    rules.onEvent(ev({ name: 'budget.spent', recipientIndex: 'victim' }));
    expect(alerts.map((a) => [a.alert, a.recipientIndex])).toEqual([
      ['budget_spent', 'victim'], ['budget_spent', 'other'], ['budget_spent', 'victim'],
    ]);
  });

  it('5 abandoned mails within 10 minutes trip mail_failures; a large or old outbox trips outbox_backlog', () => {
    for (let i = 0; i < 5; i++) rules.onEvent(ev({ name: i % 2 ? 'mail.abandoned' : 'mail.failed' }));
    rules.onOutbox(800, 30);
    minutes(2);
    rules.onOutbox(3, 900);
    expect(alerts.map((a) => a.alert)).toEqual(['mail_failures', 'outbox_backlog', 'outbox_backlog']);
  });

  it('R18: a full in-memory rate-limit store (rate_limit.store_full) trips rate_limit_store_full at once, then once per 10 minutes', () => {
    const full = () => ev({ name: 'rate_limit.store_full', ip: '203.0.113.9', detail: { scope: 'issue', keys: 500_000, maxKeys: 500_000 } });
    rules.onEvent(full());
    minutes(5);
    rules.onEvent(full());
    minutes(6);
    rules.onEvent(full());
    expect(alerts.map((a) => a.alert)).toEqual(['rate_limit_store_full', 'rate_limit_store_full']);
    expect(alerts[0]).toMatchObject({ count: 1, threshold: 1, windowSeconds: 600, severity: 'critical' });
    expect(alerts[0].summary).toContain('500000 counters');
  });

  it('R18: the global send budget reaching 80 % trips global_send_near once per window', () => {
    const near = (throttler = 'global-send') => ev({
      name: 'rate_limit.near', outcome: 'success', detail: { throttler, hits: 480, threshold: 480, limit: 600, windowSeconds: 60 },
    });
    rules.onEvent(near());
    minutes(0.5);
    rules.onEvent(near()); // a second instance's counter, or a sliding window, within the same minute
    rules.onEvent(near('network-send'));
    minutes(1);
    rules.onEvent(near());
    expect(alerts.map((a) => a.alert)).toEqual(['global_send_near', 'global_send_near']);
    expect(alerts[0]).toMatchObject({ count: 480, threshold: 480, windowSeconds: 60, severity: 'critical' });
    expect(alerts[0].summary).toContain('480 of 600');
  });

  it('normal traffic trips none of the rules', () => {
    // A day of ordinary use: a few users per IP, occasional typos, deliveries fine, a small outbox.
    for (let i = 0; i < 24 * 60; i++) {
      const ip = `192.0.2.${i % 50}`;
      rules.onEvent(ev({ name: 'challenge.issued', outcome: 'success', ip, recipientIndex: `user${i % 150}` }));
      if (i % 3 === 0) rules.onEvent(ev({ name: 'verify.failed', recipientIndex: `user${i % 150}` }));
      rules.onEvent(ev({ name: 'verify.succeeded', outcome: 'success', recipientIndex: `user${i % 150}` }));
      rules.onEvent(ev({ name: 'mail.delivered', outcome: 'success' }));
      if (i % 200 === 0) rules.onEvent(ev({ name: 'mail.retried' }));
      if (i % 10 === 0) rules.onOutbox(i % 7, 4);
      rules.onEvent(ev({ name: 'some.future.event', outcome: 'success' }));
      minutes(1);
    }
    expect(alerts).toEqual([]);
  });

  it('thresholds and windows are configurable', () => {
    rules = new OtpAlertRules(
      resolveMonitoringOptions({ clock: () => now, alerts: { verifyFailureSpike: { threshold: 3, windowSeconds: 60 } } }),
      (a) => alerts.push(a),
    );
    for (let i = 0; i < 2; i++) rules.onEvent(ev({ name: 'verify.failed' }));
    minutes(2); // the window slid past the first two
    for (let i = 0; i < 2; i++) rules.onEvent(ev({ name: 'verify.failed' }));
    expect(alerts).toEqual([]);
    rules.onEvent(ev({ name: 'verify.failed' }));
    expect(alerts.map((a) => a.alert)).toEqual(['verify_failure_spike']);
  });
});

describe('alert windows under a flood', () => {
  it('keep at most MAX_PER_SUBJECT entries per subject under a flood (50,000 addresses from one IP, 50,000 failures) and keep firing', () => {
    const { OtpAlertRules, MAX_PER_SUBJECT } = jest.requireActual('./otp-alert.rules');
    let now = 1_000;
    const fired: string[] = [];
    const rules = new OtpAlertRules(
      {
        clock: () => now,
        ipManyRecipients: { threshold: 20, windowMs: 600_000 },
        verifyFailureSpike: { threshold: 50, windowMs: 600_000 },
        budgetSpent: { threshold: 1, windowMs: 600_000 },
        mailFailures: { threshold: 5, windowMs: 600_000 },
        operatorAuthFailures: { threshold: 10, windowMs: 600_000 },
        outboxBacklog: { threshold: 100, maxAgeSeconds: 300, checkIntervalMs: 30_000 },
      },
      (a: { alert: string }) => fired.push(a.alert),
    );
    for (let i = 0; i < 50_000; i++) {
      now += 1;
      rules.onEvent({ name: 'challenge.issued', outcome: 'success', ip: '198.51.100.1', recipientIndex: `r${i}`, at: new Date(now) });
      rules.onEvent({ name: 'verify.failed', outcome: 'failure', at: new Date(now) });
    }
    expect(MAX_PER_SUBJECT).toBeLessThan(50_000);
    expect(fired).toEqual(expect.arrayContaining(['ip_many_recipients', 'verify_failure_spike']));
  });
});

describe('operator_auth_failures (R18), with an injected clock', () => {
  it('10 failed operator authentications within 10 minutes trip operator_auth_failures once per window; fewer do not', () => {
    let now = Date.UTC(2026, 0, 1);
    const alerts: OtpAlert[] = [];
    const rules = new OtpAlertRules(resolveMonitoringOptions({ clock: () => now }), (a) => alerts.push(a));
    const failed = (ip: string) => rules.onEvent({ name: 'operator.auth_failed', outcome: 'failure', ip, detail: { reason: 'mismatch' }, at: new Date(now) });
    // A token guesser spreading its tries over two addresses: the rule counts across the app.
    for (let i = 0; i < 9; i++) {
      failed(i % 2 ? '203.0.113.7' : '198.51.100.3');
      now += 30_000;
    }
    expect(alerts).toEqual([]);
    failed('203.0.113.7');
    for (let i = 0; i < 20; i++) failed('203.0.113.7');
    expect(alerts.map((a) => a.alert)).toEqual(['operator_auth_failures']);
    expect(alerts[0]).toMatchObject({ count: 10, threshold: 10, windowSeconds: 600, severity: 'critical', ip: '203.0.113.7' });
    now += 11 * 60_000;
    for (let i = 0; i < 9; i++) failed('192.0.2.1');
    expect(alerts).toHaveLength(1);
    failed('192.0.2.1');
    expect(alerts.map((a) => a.alert)).toEqual(['operator_auth_failures', 'operator_auth_failures']);
  });

  it('its threshold and window are configurable (monitoring.alerts.operatorAuthFailures)', () => {
    let now = Date.UTC(2026, 0, 1);
    const alerts: OtpAlert[] = [];
    const rules = new OtpAlertRules(
      resolveMonitoringOptions({ clock: () => now, alerts: { operatorAuthFailures: { threshold: 2, windowSeconds: 60 } } }),
      (a) => alerts.push(a),
    );
    rules.onEvent({ name: 'operator.auth_failed', outcome: 'failure', at: new Date(now) });
    now += 61_000;
    rules.onEvent({ name: 'operator.auth_failed', outcome: 'failure', at: new Date(now) });
    expect(alerts).toEqual([]);
    rules.onEvent({ name: 'operator.auth_failed', outcome: 'failure', at: new Date(now) });
    expect(alerts.map((a) => [a.alert, a.count, a.windowSeconds])).toEqual([['operator_auth_failures', 2, 60]]);
  });
});
