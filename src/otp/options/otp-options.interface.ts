import type { OtpAuditOptions, ResolvedAuditOptions } from '../audit/audit-options';
import type { ResolvedChallengeOptions } from '../challenges/challenge-options';
import type { OtpPurposeOptions } from '../core/purpose-options';
import type { OtpKey, ResolvedOtpKeys } from '../crypto/otp-keyring';
import type { OtpMailOptions, ResolvedOtpMailOptions } from '../mail/mail-options';
import type { OtpMonitoringOptions, ResolvedMonitoringOptions } from '../monitoring/monitoring-options';
import type { OtpRetentionOptions, ResolvedRetentionOptions } from '../ops/ops-options';
import type { OtpRateLimitOptions, ResolvedOtpRateLimits } from '../rate-limit/rate-limit-options';
import type { OtpSignInNoticeOptions, ResolvedSignInNoticeOptions } from '../sign-in/sign-in-options';
import type { OtpCurrentUserEmail, OtpTokenOptions, ResolvedOtpTokenOptions } from '../tokens/tokens-options';

/** Options of `OtpModule.forRoot` / `forRootAsync`. Defaults are the secure ones. */
export interface OtpModuleOptions {
  /**
   * HMAC keys, newest first: `"kid1:base64,kid2:base64"` (the `OTP_KEYS` form) or a list.
   * New codes use the first key; every key listed verifies. Each at least 32 bytes.
   * @default none: refused in production; elsewhere an ephemeral key is generated with a warning
   */
  keys?: string | OtpKey[];
  /**
   * AES-256-GCM keys, newest first, in the same `kid:base64` form (`OTP_ENCRYPTION_KEYS`),
   * exactly 32 bytes each. They protect what must stay recoverable for a while: the
   * recipient and details of a challenge's pending mail (wiped once it ends).
   * @default none: refused in production; elsewhere an ephemeral key is generated with a warning
   */
  encryptionKeys?: string | OtpKey[];
  /**
   * Key of the blind index of addresses (base64, at least 32 bytes). Keep it stable:
   * changing it resets per-address limits and supersession.
   * @default derived from the first entry of `keys`
   */
  indexKey?: string;
  /**
   * Purposes codes may be issued for; any other purpose is refused (400). Each
   * purpose's `issue` says whether clients may ask it on the public route or only
   * the host may start it with `OtpService.issue`.
   * @default { login: {} }
   */
  purposes?: Record<string, OtpPurposeOptions>;
  /**
   * Number of digits of a code, 6 to 10.
   * @default 6
   */
  codeLength?: number;
  /**
   * Wrong codes a challenge tolerates; the next submission fails even with the right code.
   * @default 5
   */
  maxAttempts?: number;
  /**
   * Failures per address across all its challenges and purposes within `windowSeconds`;
   * once spent, every verification for that address fails until the window passes.
   * A new code never resets it. `maxFailures` is capped at 100.
   *
   * `escalatingDelay` (R10): once an address has `afterFailures` failures in the window,
   * every verification for it waits `baseSeconds`, doubled at each further failure, at
   * most `maxSeconds` (answered 429 `otp_throttled` with `Retry-After`, the code not
   * even compared). `false` turns it off (the flat budget alone).
   * @default { maxFailures: 20, windowSeconds: 86400, escalatingDelay: { afterFailures: 5, baseSeconds: 2, maxSeconds: 900 } }
   */
  failureBudget?: {
    maxFailures?: number;
    windowSeconds?: number;
    escalatingDelay?: false | { afterFailures?: number; baseSeconds?: number; maxSeconds?: number };
  };
  /**
   * Resending within a challenge: a fresh code each time, at most `maxLiveCodes`
   * valid at once (the oldest dropped), all sharing one attempt counter.
   * @default { cooldownSeconds: 60, maxResends: 3, maxLiveCodes: 3 }
   */
  resend?: { cooldownSeconds?: number; maxResends?: number; maxLiveCodes?: number };
  /**
   * Proof tokens returned by a successful verify and redeemed by `OtpGuard`: their
   * lifetime and header (see `OtpTokenOptions`).
   * @default { ttlSeconds: 300, headerName: 'x-otp-token' }
   */
  tokens?: OtpTokenOptions;
  /**
   * How `OtpGuard` finds the signed-in user's address on a request, so that a
   * token only approves an action of the user it was mailed to. When set, a
   * guarded route whose request yields no address is refused (401), so run your
   * authentication guard before `OtpGuard`. A route can bind its own recipient
   * with `@RequireOtp(purpose, { recipient })`.
   * @default undefined: tokens are bound to a recipient only where a route says so
   */
  currentUserEmail?: OtpCurrentUserEmail;
  /**
   * Production mode: keys are required and development helpers (the mailbox) are off.
   * @default process.env.NODE_ENV === 'production'
   */
  production?: boolean;
  /**
   * Rate limits of the HTTP routes (per IP, per recipient, per recipient and IP,
   * global), each documented with its default in `OtpRateLimitOptions`.
   * @default the secure defaults of `OtpRateLimitOptions`, counters in memory
   */
  rateLimits?: OtpRateLimitOptions;
  /**
   * Audit trail: every security event appended to the tamper-evident `otp_audit_log`
   * (see `OtpAuditOptions` for each setting and its default).
   * @default { enabled: true, flushIntervalMs: 100, batchSize: 200, maxQueue: 10000 }
   */
  audit?: OtpAuditOptions;
  /**
   * Metrics, health and alert rules (see `OtpMonitoringOptions` for each rule's threshold and window).
   * @default all alert rules on with the log sink; outbox table `otp_mail_outbox`
   */
  monitoring?: OtpMonitoringOptions;
  /**
   * Scheduled purge of ended rows and old audit events (see `OtpRetentionOptions`).
   * @default { enabled: true, intervalSeconds: 3600, challengeSeconds: 86400, spentRowSeconds: 604800, auditSeconds: 34560000 }
   */
  retention?: OtpRetentionOptions;
  /**
   * Mail delivery: SMTP transport, sender, templates, outbox dispatcher (each field
   * documented in `OtpMailOptions`).
   * @default {} (development mailbox outside production; `smtpUrl` or `useHostMailer` required in production)
   */
  mail?: OtpMailOptions;
  /**
   * New-device sign-in notices sent when the host calls `OtpSignInNotifier.signedIn`
   * (see `OtpSignInNoticeOptions`).
   * @default { rememberDeviceSeconds: 15552000, intervalSeconds: 3600 }
   */
  signInNotices?: OtpSignInNoticeOptions;
  /**
   * Send the hot statements (issue, verify, resend, token insert and redemption, the
   * rate limiter's challenge lookup) as named prepared statements on PostgreSQL, so each
   * pooled connection plans them once. Turn off behind a pooler that cannot keep them
   * (PgBouncer in transaction mode before 1.21, or without `max_prepared_statements`).
   * Embedded PGlite never uses them.
   * @default true
   */
  preparedStatements?: boolean;
  /**
   * Where the module's migrations are recorded (`npx nestjs-email-otp migration:run` writes
   * there; `OTP_MIGRATIONS_TABLE` for the bin). At start the module counts a migration as
   * applied when this table or the data source's own migrations table records it.
   * @default 'otp_migrations'
   */
  migrationsTableName?: string;
}

/**
 * Options after every feature's defaults and checks, resolved once at start-up and deeply
 * frozen (`OTP_RESOLVED_OPTIONS`): composed of each feature's resolved types. A provider
 * injects only the slice it reads, typed with its own feature's types.
 */
export interface ResolvedOtpOptions extends ResolvedOtpKeys, ResolvedChallengeOptions {
  migrationsTableName: string;
  production: boolean;
  rateLimits: ResolvedOtpRateLimits;
  mail: ResolvedOtpMailOptions;
  tokens: ResolvedOtpTokenOptions;
  audit: ResolvedAuditOptions;
  monitoring: ResolvedMonitoringOptions;
  retention: ResolvedRetentionOptions;
  signInNotices: ResolvedSignInNoticeOptions;
  preparedStatements: boolean;
}

/** Extras fixed when the module is declared (they shape routes, so they cannot be async). */
export interface OtpModuleExtras {
  /**
   * Path prefix of the OTP routes; `false` mounts no controller.
   * @default 'auth/otp'
   */
  routePrefix?: string | false;
  /**
   * Register the module globally, so feature modules can use `OtpGuard` and
   * `OtpTokenService` without importing it.
   * @default false
   */
  isGlobal?: boolean;
  /**
   * Mount the operator routes: `GET /metrics`, `GET /health` and `/admin/otp/audit/*`
   * (the latter answer 404 until `audit.adminToken` is set). `false` mounts none; the
   * services (`OtpMetrics`, `OtpAuditService`, ...) stay available to the host.
   * @default true
   */
  operatorRoutes?: boolean;
}
