import { Provider, Type } from '@nestjs/common';
import { OtpAlertEngine } from './otp-alert.engine';
import { OtpDependencyChecks } from './otp-dependency.checks';
import { OtpHealthChecks } from './otp-health.checks';
import { OtpMetrics } from './otp-metrics';
import { OtpMonitoringController } from './otp-monitoring.controller';
import { OtpOutboxProbe } from './otp-outbox.probe';

/** Providers of metrics, health and alerts, registered by `OtpModule`. */
export const OTP_MONITORING_PROVIDERS: Provider[] = [OtpOutboxProbe, OtpMetrics, OtpAlertEngine, OtpHealthChecks, OtpDependencyChecks];

/** `/metrics` and `/health`. */
export const OTP_MONITORING_CONTROLLERS: Type<unknown>[] = [OtpMonitoringController];
