import { Injectable } from '@nestjs/common';
import { OtpThrottledError } from '../core/otp.errors';
import {
  ATTEMPT, ATTEMPT_MINTING, DELIVERY, ISSUE_BATCH, PURGE_ENDED, RESEND, SUBJECT, SUPERSEDE_ALL_LIVE, WIPE_OLD_DELIVERIES,
} from './otp-challenge.sql';
import { OtpFailureBudgetStore } from './otp-failure-budget.store';
import { GroupCommit } from './group-commit';
import {
  AttemptInput, AttemptRow, ChallengeDelivery, ChallengeTimes, FailureBudgetLimits, NewChallengeRow, NewOutboxMail, ResendOutcome,
  TokenOnSuccess, VerifyOutcome,
} from './otp-challenge.types';
import { OtpSql } from './otp-sql';

/**
 * Verify statements in flight at once per process (group commit). Fewer slots make larger batches
 * under load, and each statement saved is a round trip of app CPU: 2 read 0.88 of 4's CPU per verify
 * (`bench/ab.ts`, 2026-12-02), 1 no less than 2. A lone request still goes at once.
 */
export const VERIFY_STATEMENTS_IN_FLIGHT = 2;
/** Attempts one verify statement takes at most. */
export const VERIFY_BATCH_MAX = 64;

/** Issue statements in flight at once per process (group commit; 2 read 0.93 of 4's CPU per issue); a pool has more connections for the rest. */
export const ISSUE_STATEMENTS_IN_FLIGHT = 2;
/** Issues one statement takes at most. */
export const ISSUE_BATCH_MAX = 64;
const MAX_ISSUE_RETRIES = 32;
/** `afterFailures` when escalating delays are off: no address ever reaches it. */
const NO_DELAY = 2_147_483_647;

/**
 * Owns `otp_challenges` (statements in `otp-challenge.sql.ts`). Each method is one SQL
 * statement, so every rule it enforces is atomic; the rules themselves are chosen by
 * `OtpService`.
 */
@Injectable()
export class OtpChallengeStore {
  private readonly issues = new GroupCommit<NewChallengeRow, ChallengeTimes | null>({
    slots: ISSUE_STATEMENTS_IN_FLIGHT,
    maxBatch: ISSUE_BATCH_MAX,
    keyOf: (r) => `${r.recipientIndex}\n${r.purpose}`,
    write: (rows) => this.issueBatch(rows),
  });

  private readonly attempts = new GroupCommit<AttemptInput, AttemptRow>({
    slots: VERIFY_STATEMENTS_IN_FLIGHT,
    maxBatch: VERIFY_BATCH_MAX,
    // One address at most once per statement (its budget row is written once); an id of no known
    // address is a key of its own.
    keyOf: (a) => a.address ?? a.challengeId.toLowerCase(), // an id in other case is the same uuid
    // The statement takes one candidate count, one budget and one token lifetime for its whole batch.
    settingsOf: (a) => {
      const { budget: b, token: t } = a;
      return `${a.candidates.length} ${b.windowSeconds} ${b.maxFailures} ${b.delay ? `${b.delay.afterFailures} ${b.delay.baseSeconds} ${b.delay.maxSeconds}` : '-'}`
        + (t ? ` ${t.ttlSeconds} ${JSON.stringify(t.amr)}` : '');
    },
    write: (batch) => this.attemptBatch(batch),
  });

  constructor(
    private readonly sql: OtpSql,
    private readonly budgets: OtpFailureBudgetStore,
  ) {}

  /**
   * Supersedes the live challenge of (address, purpose) and inserts the new one with its mail
   * in the outbox, in one statement, by group commit (`ISSUE_BATCH`: concurrent issues share a
   * statement, each pair at most once per batch). A concurrent issue for the same pair from
   * another statement wins the live index; this one is then tried again (each round one
   * contender wins, hence up to `MAX_ISSUE_RETRIES` tries), so at most one challenge is ever live per pair.
   */
  async supersedeAndInsert(row: NewChallengeRow): Promise<ChallengeTimes> {
    for (let attempt = 1; ; attempt++) {
      const times = await this.issues.run(row);
      if (times) return times;
      // Each round at least one concurrent issuer commits, so N racing issues need at most N - 1 retries.
      if (attempt >= MAX_ISSUE_RETRIES) throw new OtpThrottledError(1);
    }
  }

  /** One statement for a batch of issues: each one's times, or null when its pair's live index was taken meanwhile. */
  private async issueBatch(rows: NewChallengeRow[]): Promise<(ChallengeTimes | null)[]> {
    const col = <T>(f: (r: NewChallengeRow) => T) => rows.map(f);
    const out = await this.sql.rows<{ expires_at: Date | null; resend_available_at: Date | null }>('issue', ISSUE_BATCH, [
      col((r) => r.id), col((r) => r.recipientIndex), col((r) => r.purpose), col((r) => r.contextHash), col((r) => r.codeDigest),
      col((r) => r.deliveryCiphertext), col((r) => r.maxAttempts), col((r) => r.ttlSeconds), col((r) => r.cooldownSeconds),
      col((r) => r.mail.id), col((r) => r.mail.payloadCiphertext),
    ]);
    return out.map((o) => (o.expires_at && o.resend_available_at
      ? { expiresAt: new Date(o.expires_at), resendAvailableAt: new Date(o.resend_available_at) } : null));
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
   *
   * By group commit (`ATTEMPT`): an attempt finding a statement slot free goes alone; attempts
   * arriving while all are out share the next statement, each `address` at most once in it
   * (attempts of one address stay one statement each, so their order on the budget row is the
   * rows' locks', as before).
   */
  async attempt(
    challengeId: string,
    candidates: string[],
    contextHash: string | null,
    budget: FailureBudgetLimits,
    token?: TokenOnSuccess,
    address?: string,
  ): Promise<VerifyOutcome> {
    const row = await this.attempts.run({ challengeId, candidates, contextHash, budget, token, address });
    // Refused under the budget row's lock although this statement's snapshot showed neither a
    // spent budget nor a wait: concurrent failures changed the row first. Read what they left
    // (a rare second round trip, only in such a race): a spent budget, or a wait.
    // Whatever the row says by then, the attempt was not compared: unless the budget is spent,
    // the answer is a wait (at least a second), never a verdict on the code.
    let raceWait: number | null = null;
    if (row.refused_by_budget && !row.spent_before) {
      const now = await this.budgets.current(row.recipient_index!);
      if (!now || now.failures < budget.maxFailures) raceWait = Math.max(1, Number(now?.waitSeconds ?? 1));
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

  /** One statement for a batch of attempts (one settings, distinct addresses): each one's answer row, in their order. */
  private async attemptBatch(batch: AttemptInput[]): Promise<AttemptRow[]> {
    const [{ budget, token, candidates }] = batch;
    const values: unknown[] = [
      batch.map((a) => a.challengeId), batch.flatMap((a) => a.candidates), candidates.length, batch.map((a) => a.contextHash),
      budget.windowSeconds, budget.maxFailures, budget.delay?.afterFailures ?? NO_DELAY, budget.delay?.baseSeconds ?? 0,
      budget.delay?.maxSeconds ?? 0,
    ];
    return token
      ? this.sql.rows<AttemptRow>('attempt_token', ATTEMPT_MINTING,
        [...values, batch.map((a) => a.token!.tokenHash), token.amr, token.ttlSeconds])
      : this.sql.rows<AttemptRow>('attempt', ATTEMPT, values);
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
    const [row] = await this.sql.rows('resend', RESEND,
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
    const [row] = await this.sql.rows('subject', SUBJECT, [challengeId]);
    return row ? { recipientIndex: row.recipient_index, purpose: row.purpose } : null;
  }

  /** The sealed delivery details and purpose of a challenge (NULL once it ended). */
  async delivery(challengeId: string): Promise<ChallengeDelivery | null> {
    const [row] = await this.sql.rows('delivery', DELIVERY, [challengeId], 'unprepared');
    return row ? { purpose: row.purpose, recipientIndex: row.recipient_index, deliveryCiphertext: row.delivery_ciphertext } : null;
  }

  /** Ends every live challenge (after a restore, codes consumed since the backup must not come back). */
  async supersedeAllLive(): Promise<number> {
    return this.sql.count('supersede_all', SUPERSEDE_ALL_LIVE, [], 'unprepared');
  }

  /** Retention: challenges that ended (consumed, superseded or expired) more than `afterSeconds` ago. */
  async purgeEnded(afterSeconds: number): Promise<number> {
    return this.sql.count('challenge_purge', PURGE_ENDED, [afterSeconds], 'unprepared');
  }

  /** Wipes the encrypted delivery data (address, code, requesting IP) of challenges created more than `afterSeconds` ago. */
  async wipeOldDeliveries(afterSeconds: number): Promise<number> {
    return this.sql.count('delivery_wipe', WIPE_OLD_DELIVERIES, [afterSeconds], 'unprepared');
  }
}
