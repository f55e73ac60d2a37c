import { Injectable } from '@nestjs/common';

/** A readiness probe of one dependency: resolves when healthy, rejects otherwise. */
export type OtpHealthCheckFn = () => Promise<unknown>;

/**
 * The port `/health` reads: the database is always checked; other parts of the
 * module or the host register theirs (SMTP `transporter.verify()`, Redis `PING`)
 * when they are configured, e.g. in `onModuleInit`.
 */
@Injectable()
export class OtpHealthChecks {
  private readonly checks = new Map<string, OtpHealthCheckFn>();

  register(name: string, check: OtpHealthCheckFn): void {
    if (!/^[a-z][a-z0-9_-]{0,31}$/.test(name)) throw new Error(`health check name "${name}" must be a short lower-case name`);
    this.checks.set(name, check);
  }

  list(): [string, OtpHealthCheckFn][] {
    return [...this.checks.entries()];
  }
}
