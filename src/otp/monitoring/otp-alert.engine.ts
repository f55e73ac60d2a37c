import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { OtpEventBus } from '../events/otp-event-bus';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import { OtpAlertRules } from './otp-alert.rules';
import { LogAlertSink, WebhookAlertSink } from './otp-alert.sinks';
import { OtpAlert, OtpAlertSink } from './otp-alert.types';
import { OtpMetrics } from './otp-metrics';
import type { ResolvedMonitoringOptions } from './monitoring-options';
import { OtpOutboxProbe } from './otp-outbox.probe';
import { OtpSchemaState } from '../persistence/otp-schema.state';

/**
 * Runs the alert rules on the event bus (and on the outbox, periodically) and
 * fans alerts out to the sinks. Each alert is also an `alert.raised` event, so
 * it lands in the audit trail.
 */
@Injectable()
export class OtpAlertEngine implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('OtpAlerts');
  private readonly options: ResolvedMonitoringOptions;
  readonly sinks: OtpAlertSink[];
  private readonly rules: OtpAlertRules;
  private unsubscribe?: () => void;
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(OTP_RESOLVED_OPTIONS) resolved: { monitoring: ResolvedMonitoringOptions },
    private readonly bus: OtpEventBus,
    private readonly metrics: OtpMetrics,
    private readonly outbox: OtpOutboxProbe,
    private readonly schema: OtpSchemaState,
  ) {
    this.options = resolved.monitoring;
    this.sinks = [
      ...(this.options.logSink ? [new LogAlertSink()] : []),
      ...(this.options.webhookUrl ? [new WebhookAlertSink(this.options.webhookUrl)] : []),
      ...this.options.sinks,
    ];
    this.rules = new OtpAlertRules(this.options, (a) => this.raise(a));
  }

  onModuleInit(): void {
    if (!this.options.alertsEnabled) return;
    this.unsubscribe = this.bus.subscribe((e) => this.rules.onEvent(e));
    this.timer = setInterval(() => void this.checkOutbox(), this.options.outboxBacklog.checkIntervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
    if (this.timer) clearInterval(this.timer);
  }

  /** Reads the outbox once and evaluates the backlog rule (the timer calls this). */
  async checkOutbox(): Promise<void> {
    if (!this.schema.ready) return;
    try {
      const s = await this.outbox.read();
      this.rules.onOutbox(s.backlog, s.oldestAgeSeconds);
    } catch (err) {
      this.logger.error(`outbox check failed: ${(err as Error).name}`);
    }
  }

  private raise(alert: OtpAlert): void {
    this.metrics.alerts.inc({ rule: alert.alert });
    this.bus.emit({ name: 'alert.raised', outcome: 'failure', detail: { rule: alert.alert, count: alert.count, threshold: alert.threshold } });
    for (const sink of this.sinks) {
      Promise.resolve()
        .then(() => sink.send(alert))
        .catch((err: Error) => this.logger.error(`alert sink failed: ${err.name}`));
    }
  }
}
