import { isThrottleEvent } from '../events/otp-event';
import { Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { OtpAuditWriter } from '../audit/otp-audit.writer';
import type { OtpEvent } from '../events/otp-event';
import { OtpEventBus } from '../events/otp-event-bus';
import { OtpOutboxProbe } from './otp-outbox.probe';

/** Label values come from events: keep them short and from a small alphabet (bounded cardinality). */
function label(v: unknown, fallback = 'unknown'): string {
  return typeof v === 'string' && /^[a-z0-9_.:-]{1,40}$/i.test(v) ? v : fallback;
}

/**
 * Prometheus metrics of the module, in a registry of its own per app instance
 * (two apps in one process must not share the global registry). Fed by the
 * event bus, so events added later are counted in `otp_events_total` unchanged.
 */
@Injectable()
export class OtpMetrics implements OnModuleInit, OnModuleDestroy {
  readonly registry = new Registry();
  private unsubscribe?: () => void;

  private readonly events = new Counter({ name: 'otp_events_total', help: 'Security events by name and outcome', labelNames: ['event', 'outcome'], registers: [this.registry] });
  private readonly issued = new Counter({ name: 'otp_challenges_issued_total', help: 'Challenges issued', labelNames: ['purpose'], registers: [this.registry] });
  private readonly verifications = new Counter({ name: 'otp_verifications_total', help: 'Verifications by outcome and reason', labelNames: ['outcome', 'reason'], registers: [this.registry] });
  private readonly throttled = new Counter({ name: 'otp_throttled_total', help: 'Requests refused by a throttler', labelNames: ['throttler'], registers: [this.registry] });
  private readonly mail = new Counter({ name: 'otp_mail_deliveries_total', help: 'Mail delivery outcomes (delivered, retried, abandoned, ...)', labelNames: ['outcome'], registers: [this.registry] });
  private readonly mailLatency = new Histogram({
    name: 'otp_mail_delivery_seconds', help: 'Time from hand-off to delivery',
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300], registers: [this.registry],
  });
  readonly alerts = new Counter({ name: 'otp_alerts_total', help: 'Alerts raised by rule', labelNames: ['rule'], registers: [this.registry] });

  constructor(
    private readonly bus: OtpEventBus,
    outbox: OtpOutboxProbe,
    writer: OtpAuditWriter,
  ) {
    new Gauge({
      name: 'otp_outbox_backlog', help: 'Mails waiting in the outbox', registers: [this.registry],
      async collect() {
        this.set((await outbox.read()).backlog);
      },
    });
    new Gauge({
      name: 'otp_outbox_oldest_age_seconds', help: 'Age of the oldest waiting mail', registers: [this.registry],
      async collect() {
        this.set((await outbox.read()).oldestAgeSeconds);
      },
    });
    new Gauge({ name: 'otp_audit_queue_length', help: 'Audit events waiting to be written', registers: [this.registry], collect() { this.set(writer.pending); } });
    new Gauge({ name: 'otp_audit_dropped', help: 'Audit events dropped (queue full) since start', registers: [this.registry], collect() { this.set(writer.dropped); } });
  }

  onModuleInit(): void {
    this.unsubscribe = this.bus.subscribe((e) => this.count(e));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  count(e: OtpEvent): void {
    this.events.inc({ event: label(e.name), outcome: e.outcome });
    const d = e.detail ?? {};
    if (e.name === 'challenge.issued') this.issued.inc({ purpose: label(e.purpose) });
    else if (e.name === 'verify.succeeded') this.verifications.inc({ outcome: 'success', reason: 'ok' });
    else if (e.name === 'verify.failed') this.verifications.inc({ outcome: 'failure', reason: label(d.reason) });
    if (isThrottleEvent(e)) this.throttled.inc({ throttler: label(d.throttler ?? d.name ?? (d.reason === 'cooldown' ? 'resend-cooldown' : undefined)) });
    const mail = /^mail\.([a-z_]+)$/.exec(e.name);
    if (mail) {
      this.mail.inc({ outcome: label(mail[1]) });
      const ms = d.latencyMs ?? d.durationMs ?? d.latency_ms;
      if (mail[1] === 'delivered' && typeof ms === 'number' && ms >= 0) this.mailLatency.observe(ms / 1000);
    }
  }

  /** The exposition text of `/metrics`. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
