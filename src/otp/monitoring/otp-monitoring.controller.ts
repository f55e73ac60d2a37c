import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { OtpOperatorRoute } from '../operator/operator-route.decorator';
import { HttpAdapterHost } from '@nestjs/core';
import { HealthCheckResult, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { OtpHealthChecks } from './otp-health.checks';
import { OtpMetrics } from './otp-metrics';
import { OtpSchemaState } from '../persistence/otp-schema.state';

const CHECK_TIMEOUT_MS = 2000;
const SCHEMA_OUT_OF_DATE = 'schema_out_of_date';

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}

/**
 * `/metrics` (Prometheus text, behind the operator bearer token: its counters by
 * outcome would otherwise tell a stranger why a verify failed) and `/health`
 * (terminus; up/down per dependency only, public for load balancers).
 */
@Controller()
export class OtpMonitoringController {
  constructor(
    private readonly metrics: OtpMetrics,
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly checks: OtpHealthChecks,
    private readonly adapterHost: HttpAdapterHost,
    private readonly schema: OtpSchemaState,
  ) {}

  @Get('metrics')
  @OtpOperatorRoute()
  async scrape(@Res({ passthrough: true }) res: unknown): Promise<string> {
    const { contentType, body } = await this.metrics.render();
    this.adapterHost.httpAdapter.setHeader(res, 'Content-Type', contentType);
    this.adapterHost.httpAdapter.setHeader(res, 'Cache-Control', 'no-store');
    return body;
  }

  /**
   * 200 when every dependency answers, 503 with the failing ones named (no error details);
   * `database: schema_out_of_date` while the module's migrations are pending.
   */
  @Get('health')
  async check(@Res({ passthrough: true }) res: unknown): Promise<HealthCheckResult | object> {
    this.adapterHost.httpAdapter.setHeader(res, 'Cache-Control', 'no-store');
    try {
      return await this.health.check([
        () => (this.schema.ready ? this.db.pingCheck('database', { timeout: CHECK_TIMEOUT_MS }) : this.indicators.check('database').down()),
        ...this.checks.list().map(([name, fn]) => async () => {
          const indicator = this.indicators.check(name);
          try {
            await within(fn(), CHECK_TIMEOUT_MS);
            return indicator.up();
          } catch {
            return indicator.down();
          }
        }),
      ]);
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      this.adapterHost.httpAdapter.status(res, 503);
      const body = err.getResponse() as HealthCheckResult;
      // Only up/down per dependency: messages could name hosts or users.
      const strip = (m?: Record<string, { status: string } | undefined>) =>
        m && Object.fromEntries(Object.entries(m).map(([k, v]) => [k, { status: k === 'database' && !this.schema.ready ? SCHEMA_OUT_OF_DATE : v?.status ?? 'down' }]));
      return { status: body.status, info: strip(body.info), error: strip(body.error), details: strip(body.details) };
    }
  }
}
