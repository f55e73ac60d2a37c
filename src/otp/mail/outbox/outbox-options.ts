import { OtpConfigError } from '../../core/otp.errors';

/** How the mail outbox delivers (`OtpModuleOptions.mail`: these fields sit beside the transport's). */
export interface OtpMailOutboxOptions {
  /**
   * Run the outbox dispatcher in this instance. Several instances may run one each.
   * @default true
   */
  dispatcher?: boolean;
  /**
   * How often the dispatcher looks for due mail when nothing woke it (LISTEN/NOTIFY on
   * PostgreSQL and in-process wake-ups make delivery immediate in the common case).
   * @default 500
   */
  pollIntervalMs?: number;
  /**
   * Claims started by wake-ups (mail written here, a NOTIFY, the poll) go at most this often:
   * mail written within this long of the last claim (polls included) waits for the rest of it
   * and is claimed with the rest in one statement; one written later is claimed at once. A
   * claim that comes back full is followed at once, so a backlog drains as fast as with 0 once
   * its first claim went. A `pollIntervalMs` below this is in effect this. With 0 every mail
   * written starts its own claim: at 300 issues a second, 300 claims a second, and PostgreSQL
   * spent about 2.2 ms of CPU per issue against 1.0 with 50 (docs/performance.md, seventh sitting).
   * @default 50
   */
  claimIntervalMs?: number;
  /**
   * Rows claimed by one statement. The next batch is claimed as soon as this many of the
   * `maxInFlight` slots are free, while the rest are still being sent.
   * @default 25
   */
  batchSize?: number;
  /**
   * Messages a dispatcher has claimed and not yet settled, at most. The transport gets
   * one per connection (`smtpConnections`, the port's `concurrency`); the rest wait in the
   * dispatcher's queue, which hides the time spent claiming and recording, and are checked
   * again (deadline, challenge, lease) when a connection frees. A message must be answered
   * within half the lease from then: keep `maxInFlight / smtpConnections` times the relay's
   * slowest answer well under the lease.
   * @default 50
   */
  maxInFlight?: number;
  /**
   * Deliveries are recorded in groups: what finishes during a write goes with the next
   * one. With a delay, a delivery also waits up to this long for messages still with the
   * transport: fewer, larger statements (a one-row UPDATE costs PostgreSQL about what a
   * 25-row one does), at the price of a longer duplicate window (relay accepted, row not
   * yet updated). A lever for a database under pressure; off by default.
   * @default 0
   */
  recordDelayMs?: number;
  /**
   * How long a failed delivery record is retried (backoff from 50 ms, doubling, at most
   * 2 s) before the row is left to its lease, which sends the mail again. A database
   * restart takes seconds: retrying meanwhile keeps those mails from going out twice.
   * At most half of `leaseSeconds`, so a row is never released while its record is retried.
   * @default half of leaseSeconds (60000)
   */
  recordRetryMs?: number;
  /**
   * Pooled SMTP connections to the relay per instance (nodemailer's `maxConnections`; they
   * are opened only while that many messages are on their way, so a quiet instance keeps one).
   * Each message takes a few round trips whose latency grows with the load on the instance:
   * with 5, a busy instance sent about a third as many codes as it issued, with 20 it kept up
   * (docs/performance.md, 2026-12-01). Lower it for a relay that limits connections per client.
   * With `useHostMailer` the host's pool size is read from its transport instead; this
   * bounds only a non-pooled host transport (one connection per message).
   * @default 20
   */
  smtpConnections?: number;
  /**
   * How long a claim lasts. A dispatcher that dies mid-send leaves its rows to others
   * once this passes; it must exceed the longest send (SMTP timeouts are 10/10/30 s).
   * @default 120
   */
  leaseSeconds?: number;
  /**
   * Retry delays: `baseMs * 2^(attempt-1)` capped at `maxMs`, each with ±50 % jitter.
   * A message is abandoned at its deadline (the challenge's expiry).
   * @default { baseMs: 1000, maxMs: 60000 }
   */
  retry?: { baseMs?: number; maxMs?: number };
  /**
   * At most one failure-budget notice per address within this many seconds.
   * @default 86400
   */
  noticeIntervalSeconds?: number;
}

/** Outbox options after defaults and checks. */
export interface ResolvedOtpMailOutboxOptions {
  dispatcher: boolean;
  pollIntervalMs: number;
  claimIntervalMs: number;
  batchSize: number;
  maxInFlight: number;
  recordDelayMs: number;
  recordRetryMs: number;
  smtpConnections: number;
  leaseSeconds: number;
  retry: { baseMs: number; maxMs: number };
  noticeIntervalSeconds: number;
}

function positive(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new OtpConfigError(`mail.${name} must be an integer from ${min} to ${max}`);
  return v;
}

/** Applies the outbox defaults and refuses sizes and delays that cannot work. */
export function resolveOtpMailOutboxOptions(options: OtpMailOutboxOptions = {}): ResolvedOtpMailOutboxOptions {
  const leaseSeconds = positive('leaseSeconds', options.leaseSeconds, 120, 60, 3600);
  return {
    dispatcher: options.dispatcher ?? true,
    pollIntervalMs: positive('pollIntervalMs', options.pollIntervalMs, 500, 10, 60_000),
    claimIntervalMs: positive('claimIntervalMs', options.claimIntervalMs, 50, 0, 1000),
    batchSize: positive('batchSize', options.batchSize, 25, 1, 500),
    maxInFlight: positive('maxInFlight', options.maxInFlight, 50, 1, 1000),
    recordDelayMs: positive('recordDelayMs', options.recordDelayMs, 0, 0, 1000),
    recordRetryMs: positive('recordRetryMs', options.recordRetryMs, (leaseSeconds * 1000) / 2, 0, (leaseSeconds * 1000) / 2),
    smtpConnections: positive('smtpConnections', options.smtpConnections, 20, 1, 100),
    leaseSeconds,
    retry: {
      baseMs: positive('retry.baseMs', options.retry?.baseMs, 1000, 10, 600_000),
      maxMs: positive('retry.maxMs', options.retry?.maxMs, 60_000, 10, 3_600_000),
    },
    noticeIntervalSeconds: positive('noticeIntervalSeconds', options.noticeIntervalSeconds, 86_400, 60, 30 * 86_400),
  };
}
