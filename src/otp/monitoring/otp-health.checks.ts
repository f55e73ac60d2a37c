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

/**
 * Wraps a check so that its outcome (healthy or not) is reused for `ttlMs` and
 * concurrent callers share the one probe in flight. `ttlMs` 0: every call probes.
 */
export function cachedHealthCheck(check: OtpHealthCheckFn, ttlMs: number, clock: () => number = Date.now): OtpHealthCheckFn {
  if (ttlMs <= 0) return check;
  let last: { at: number; outcome: Promise<unknown> } | undefined;
  let inFlight: Promise<unknown> | undefined;
  return () => {
    if (inFlight) return inFlight;
    if (last && clock() - last.at < ttlMs) return last.outcome;
    const probe = check();
    inFlight = probe;
    const settled = () => {
      inFlight = undefined;
      last = { at: clock(), outcome: probe };
    };
    probe.then(settled, settled);
    return probe;
  };
}
