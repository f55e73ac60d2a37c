import { Injectable } from '@nestjs/common';
import { OtpThrottledError } from '../otp.errors';
import type { NewOutboxMail } from '../mail/outbox/otp-mail-outbox.payload';
import { OtpSql } from './otp-sql';

export interface NewChallengeRow {
  id: string;
  recipientIndex: string;
  purpose: string;
  contextHash: string | null;
  codeDigest: string;
  deliveryCiphertext: string;
  maxAttempts: number;
  ttlSeconds: number;
  cooldownSeconds: number;
  /** The code's mail, written to the outbox by the same statement. */
  mail: NewOutboxMail;
}

export interface ChallengeTimes {
  expiresAt: Date;
  resendAvailableAt: Date;
}

export interface VerifyOutcome {
  /** The challenge exists. */
  found: boolean;
  /** The address's failure budget refused the attempt before it reached the challenge. */
  budgetSpent: boolean;
  /** The address is under an escalating delay: nothing was compared; retry after this many seconds. */
  waitSeconds: number | null;
  /** The attempt was counted on a live challenge. */
  attempted: boolean;
  consumedAt: Date | null;
  purpose: string | null;
  contextHash: string | null;
  recipientIndex: string | null;
  attempts: number | null;
  maxAttempts: number | null;
  budgetFailures: number | null;
}

export interface ResendOutcome {
  found: boolean;
  live: boolean;
  /** Seconds until the cooldown ends; 0 when the resend was done. */
  waitSeconds: number;
  resent: boolean;
  purpose: string | null;
  deliveryCiphertext: string | null;
  expiresAt: Date | null;
  resendAvailableAt: Date | null;
}

/** The proof token the verify statement writes when the code is right (see `OtpTokenService.verifyAndIssue`). */
export interface TokenOnSuccess {
  tokenHash: string;
  amr: readonly string[];
  ttlSeconds: number;
}

/**
 * The CTE that writes the proof token of the challenge the statement consumed (none
 * otherwise), with its parameters numbered after the statement's own. It expires
 * `ttlSeconds` after `consumed_at`, which is the statement's `now()`.
 */
function tokenOnSuccess(token: TokenOnSuccess | undefined, challengeId: string, values: unknown[]): { cte: string; values: unknown[] } {
  if (!token) return { cte: '', values };
  const [hash, id, amr, ttl] = [1, 2, 3, 4].map((i) => `$${values.length + i}`);
  return {
    cte: `, token AS (
         INSERT INTO otp_tokens (token_hash, challenge_id, purpose, context_hash, recipient_index, amr, verified_at, expires_at)
         SELECT ${hash}, ${id}, a.purpose, a.context_hash, a.recipient_index, ${amr}::text[], a.consumed_at,
           a.consumed_at + make_interval(secs => ${ttl})
         FROM attempt a WHERE a.consumed_at IS NOT NULL
       )`,
    values: [...values, token.tokenHash, challengeId, token.amr, token.ttlSeconds],
  };
}

const UNIQUE_VIOLATION = '23505';
const MAX_ISSUE_RETRIES = 32;
/** `afterFailures` when escalating delays are off: no address ever reaches it. */
const NO_DELAY = 2_147_483_647;

/**
 * Queries on challenges. Each method is one SQL statement, so every rule it
 * enforces is atomic; the rules themselves are chosen by `OtpService`.
 */
@Injectable()
export class OtpChallengeStore {
  constructor(private readonly sql: OtpSql) {}

  /**
   * Supersedes the live challenge of (address, purpose) and inserts the new one
   * with its mail in the outbox, in one statement. A concurrent issue for the same
   * pair loses on the unique index and is retried (each round one contender wins,
   * hence up to 10 tries), so at most one challenge is ever live per pair.
   */
  async supersedeAndInsert(row: NewChallengeRow): Promise<ChallengeTimes> {
    for (let attempt = 1; ; attempt++) {
      try {
        const [out] = await this.sql.rows('issue',
          `WITH superseded AS (
             UPDATE otp_challenges SET superseded_at = now(), delivery_ciphertext = NULL
             WHERE recipient_index = $2 AND purpose = $3 AND consumed_at IS NULL AND superseded_at IS NULL
             RETURNING id
           ), created AS (
             INSERT INTO otp_challenges (id, recipient_index, purpose, context_hash, code_digests,
               delivery_ciphertext, max_attempts, expires_at, resend_available_at)
             SELECT $1, $2, $3, $4, ARRAY[$5::text], $6, $7,
               now() + make_interval(secs => $8), now() + make_interval(secs => $9)
             FROM (SELECT count(*) FROM superseded) AS s
             RETURNING expires_at, resend_available_at
           ), mail AS (
             INSERT INTO otp_mail_outbox (id, challenge_id, kind, purpose, recipient_index, payload_ciphertext, deadline_at)
             SELECT $10, $1, 'code', $3, $2, $11, expires_at FROM created
           )
           SELECT expires_at, resend_available_at FROM created`,
          [row.id, row.recipientIndex, row.purpose, row.contextHash, row.codeDigest, row.deliveryCiphertext,
            row.maxAttempts, row.ttlSeconds, row.cooldownSeconds, row.mail.id, row.mail.payloadCiphertext],
        );
        return { expiresAt: new Date(out.expires_at), resendAvailableAt: new Date(out.resend_available_at) };
      } catch (err) {
        if ((err as { code?: string }).code !== UNIQUE_VIOLATION) throw err;
        // Each round at least one concurrent issuer commits, so N racing issues need at most N - 1 retries.
        if (attempt >= MAX_ISSUE_RETRIES) throw new OtpThrottledError(1);
      }
    }
  }

  /**
   * Counts one attempt and consumes the challenge if a candidate digest matches,
   * in one statement. Every live attempt first locks the address's budget row
   * (serialising attempts on one address): a wrong code charges it, a right code
   * re-checks it, and both are refused once the failures are spent. The challenge
   * row's lock then re-checks liveness, so concurrent right codes consume once and
   * concurrent wrong codes never pass `max_attempts`. With `token`, the consumed
   * challenge's proof token is written by the same statement.
   *
   * Escalating delays (R10): once the address has `delay.afterFailures` failures in
   * its window, nothing is accepted before the budget row's `next_attempt_at` (the
   * answer is a wait, not a verdict) and each further failure doubles the wait up to
   * `delay.maxSeconds`. The wait is re-checked under the row lock by right codes too,
   * so a burst of concurrent guesses cannot slip one past it, even the burst whose
   * failures start the wait.
   */
  async attempt(
    challengeId: string,
    candidates: string[],
    contextHash: string | null,
    budget: { maxFailures: number; windowSeconds: number; delay: { afterFailures: number; baseSeconds: number; maxSeconds: number } | null },
    token?: TokenOnSuccess,
  ): Promise<VerifyOutcome> {
    const lapsed = `b.window_started_at <= now() - make_interval(secs => $4)`;
    const failuresBefore = `CASE WHEN ${lapsed} THEN 0 ELSE b.failures END`;
    const waitAfter = (failures: string) =>
      `CASE WHEN ${failures} >= $6::int THEN now() + make_interval(secs => least($8::float8, $7::float8 * power(2, ${failures} - $6::int))) END`;
    const minted = tokenOnSuccess(token, challengeId, [challengeId, candidates, contextHash, budget.windowSeconds, budget.maxFailures,
      budget.delay?.afterFailures ?? NO_DELAY, budget.delay?.baseSeconds ?? 0, budget.delay?.maxSeconds ?? 0]);
    const [row] = await this.sql.rows(token ? 'attempt_token' : 'attempt',
      `WITH target AS (
         SELECT c.id, c.recipient_index,
           (c.consumed_at IS NULL AND c.superseded_at IS NULL AND c.expires_at > now()
             AND c.attempts < c.max_attempts) AS live,
           (c.code_digests && $2::text[] AND c.context_hash IS NOT DISTINCT FROM $3::text) AS matches,
           coalesce(b.failures >= $5, false) AS spent,
           -- A spent budget is not a wait: it answers like every other refusal until the window passes.
           CASE WHEN b.failures >= $6::int AND b.failures < $5 AND b.next_attempt_at > now()
             THEN ceil(extract(epoch FROM b.next_attempt_at - now()))::int END AS wait_seconds
         FROM otp_challenges c
         LEFT JOIN otp_failure_budgets b ON b.recipient_index = c.recipient_index
           AND b.window_started_at > now() - make_interval(secs => $4)
         WHERE c.id = $1
       ), budget AS (
         -- Every live attempt passes the address's budget row under its lock: a wrong code charges
         -- it, a right code only re-checks it (spent? waiting?), so no concurrent failure is missed.
         -- A right code for an address that never failed leaves a row with no failures and no
         -- window (-infinity: the next failure starts one).
         INSERT INTO otp_failure_budgets AS b (recipient_index, window_started_at, failures, next_attempt_at)
         SELECT t.recipient_index, CASE WHEN t.matches THEN '-infinity'::timestamptz ELSE now() END,
           CASE WHEN t.matches THEN 0 ELSE 1 END, CASE WHEN NOT t.matches THEN ${waitAfter('1')} END
         FROM target t WHERE t.live AND t.wait_seconds IS NULL
         ON CONFLICT (recipient_index) DO UPDATE SET
           window_started_at = CASE WHEN EXCLUDED.failures = 0 OR NOT ${lapsed} THEN b.window_started_at ELSE now() END,
           failures = CASE WHEN EXCLUDED.failures = 0 THEN b.failures ELSE ${failuresBefore} + 1 END,
           next_attempt_at = CASE WHEN EXCLUDED.failures = 0 THEN b.next_attempt_at
             ELSE ${waitAfter(`(${failuresBefore} + 1)`)} END
         WHERE ${lapsed} OR (b.failures < $5
           AND (b.failures < $6::int OR b.next_attempt_at IS NULL OR b.next_attempt_at <= now()))
         RETURNING CASE WHEN ${lapsed} THEN 0 ELSE b.failures END AS failures
       ), attempt AS (
         UPDATE otp_challenges c SET attempts = c.attempts + 1,
           consumed_at = CASE WHEN c.code_digests && $2::text[] AND c.context_hash IS NOT DISTINCT FROM $3::text
             THEN now() END,
           delivery_ciphertext = CASE WHEN c.code_digests && $2::text[] AND c.context_hash IS NOT DISTINCT FROM $3::text
             THEN NULL ELSE c.delivery_ciphertext END
         FROM target t
         -- By primary key: written so the planner cannot pick the partial live index (it did, and scanned
         -- all of it, on tables without statistics yet: 70 verifies/s in the bench instead of 700).
         WHERE c.id = $1 AND c.id = t.id AND t.live AND t.wait_seconds IS NULL AND EXISTS (SELECT 1 FROM budget)
           AND coalesce(c.consumed_at, c.superseded_at) IS NULL AND c.expires_at > now()
           AND c.attempts < c.max_attempts
         RETURNING c.purpose, c.context_hash, c.recipient_index, c.consumed_at, c.attempts, c.max_attempts
       )${minted.cte}
       SELECT (t.id IS NOT NULL) AS found,
         coalesce(t.live AND t.wait_seconds IS NULL AND NOT EXISTS (SELECT 1 FROM budget), false) AS refused_by_budget,
         t.wait_seconds, t.spent AS spent_before,
         (a.attempts IS NOT NULL) AS attempted,
         (SELECT failures FROM budget) AS budget_failures,
         a.consumed_at, a.purpose, a.context_hash,
         coalesce(a.recipient_index, t.recipient_index) AS recipient_index, a.attempts, a.max_attempts
       FROM (SELECT 1) AS one LEFT JOIN target t ON true LEFT JOIN attempt a ON true`,
      minted.values,
    );
    // Refused under the budget row's lock although this statement's snapshot showed neither a
    // spent budget nor a wait: concurrent failures changed the row first. Read what they left
    // (a rare second round trip, only in such a race): a spent budget, or a wait.
    // Whatever the row says by then, the attempt was not compared: unless the budget is spent,
    // the answer is a wait (at least a second), never a verdict on the code.
    let raceWait: number | null = null;
    if (row.refused_by_budget && !row.spent_before) {
      const [now] = await this.sql.rows('budget_after_race',
        `SELECT failures, ceil(extract(epoch FROM next_attempt_at - now()))::int AS wait_seconds
         FROM otp_failure_budgets WHERE recipient_index = $1`, [row.recipient_index]);
      if (!now || now.failures < budget.maxFailures) raceWait = Math.max(1, Number(now?.wait_seconds ?? 1));
    }
    return {
      found: row.found,
      budgetSpent: row.refused_by_budget && raceWait === null,
      waitSeconds: row.wait_seconds !== null ? Number(row.wait_seconds) : raceWait,
      attempted: row.attempted,
      consumedAt: row.consumed_at ? new Date(row.consumed_at) : null,
      purpose: row.purpose,
      contextHash: row.context_hash,
      recipientIndex: row.recipient_index,
      attempts: row.attempts,
      maxAttempts: row.max_attempts,
      budgetFailures: row.budget_failures,
    };
  }

  /**
   * Adds a fresh code digest to a live challenge whose cooldown has passed,
   * keeping the newest `maxLiveCodes`, and writes its mail to the outbox in the
   * same statement. The attempt counter is left alone. Digests arrive one per
   * declared purpose; the challenge's own is kept.
   */
  async addCode(
    challengeId: string,
    digestsByPurpose: { purposes: string[]; digests: string[] },
    limits: { maxLiveCodes: number; maxResends: number; cooldownSeconds: number },
    mail: NewOutboxMail,
  ): Promise<ResendOutcome> {
    const [row] = await this.sql.rows('resend',
      `WITH target AS (
         SELECT c.id, c.purpose,
           (c.consumed_at IS NULL AND c.superseded_at IS NULL AND c.expires_at > now()
             AND c.attempts < c.max_attempts AND c.resends < $5) AS live,
           greatest(0, ceil(extract(epoch FROM c.resend_available_at - now())))::int AS wait_seconds
         FROM otp_challenges c WHERE c.id = $1
       ), resent AS (
         UPDATE otp_challenges c SET
           code_digests = (c.code_digests || u.digest)[greatest(1, cardinality(c.code_digests) + 2 - $4):],
           resends = c.resends + 1,
           resend_available_at = now() + make_interval(secs => $6)
         FROM target t, unnest($2::text[], $3::text[]) AS u(purpose, digest)
         WHERE c.id = $1 AND c.id = t.id AND u.purpose = c.purpose AND t.live AND t.wait_seconds = 0
           AND coalesce(c.consumed_at, c.superseded_at) IS NULL AND c.expires_at > now()
           AND c.attempts < c.max_attempts AND c.resends < $5 AND c.resend_available_at <= now()
         RETURNING c.id, c.purpose, c.recipient_index, c.delivery_ciphertext, c.expires_at, c.resend_available_at
       ), mail AS (
         INSERT INTO otp_mail_outbox (id, challenge_id, kind, purpose, recipient_index, payload_ciphertext, deadline_at)
         SELECT $7, r.id, 'code', r.purpose, r.recipient_index, $8, r.expires_at FROM resent r
       )
       SELECT (t.id IS NOT NULL) AS found, coalesce(t.live, false) AS live,
         coalesce(t.wait_seconds, 0) AS wait_seconds, (r.expires_at IS NOT NULL) AS resent,
         t.purpose, r.delivery_ciphertext, r.expires_at, r.resend_available_at
       FROM (SELECT 1) AS one LEFT JOIN target t ON true LEFT JOIN resent r ON true`,
      [challengeId, digestsByPurpose.purposes, digestsByPurpose.digests, limits.maxLiveCodes, limits.maxResends,
        limits.cooldownSeconds, mail.id, mail.payloadCiphertext],
    );
    return {
      found: row.found,
      live: row.live,
      waitSeconds: Number(row.wait_seconds),
      resent: row.resent,
      purpose: row.purpose,
      deliveryCiphertext: row.delivery_ciphertext,
      expiresAt: row.expires_at ? new Date(row.expires_at) : null,
      resendAvailableAt: row.resend_available_at ? new Date(row.resend_available_at) : null,
    };
  }

  /** Recipient and purpose of a challenge, whatever its state (the rate limiter keys on them). */
  async findRateLimitSubject(challengeId: string): Promise<{ recipientIndex: string; purpose: string } | null> {
    const [row] = await this.sql.rows('subject', `SELECT recipient_index, purpose FROM otp_challenges WHERE id = $1`, [challengeId]);
    return row ? { recipientIndex: row.recipient_index, purpose: row.purpose } : null;
  }
}
