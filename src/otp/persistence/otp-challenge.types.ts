/**
 * What goes into and comes out of `OtpChallengeStore`'s statements: the rows it writes and the
 * outcomes it answers, apart from the store so its callers and tests can name them.
 */

/** A code's mail, written to the outbox by the statement that issues or resends the code: id and sealed payload. */
export interface NewOutboxMail {
  id: string;
  payloadCiphertext: string;
}

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

/** The failure budget the verify statement passes (`OtpModuleOptions.failureBudget`). */
export interface FailureBudgetLimits {
  maxFailures: number;
  windowSeconds: number;
  delay: { afterFailures: number; baseSeconds: number; maxSeconds: number } | null;
}

export interface AttemptInput {
  challengeId: string;
  candidates: string[];
  contextHash: string | null;
  budget: FailureBudgetLimits;
  token?: TokenOnSuccess;
  /** The challenge's address, as far as the caller can tell (the recipient tag in its id). */
  address?: string;
}

/** One answer row of the verify statement. */
export interface AttemptRow {
  found: boolean;
  refused_by_budget: boolean;
  wait_seconds: number | null;
  spent_before: boolean | null;
  attempted: boolean;
  budget_failures: number | null;
  consumed_at: Date | null;
  purpose: string | null;
  context_hash: string | null;
  recipient_index: string | null;
  attempts: number | null;
  max_attempts: number | null;
}

/** The sealed delivery details of a challenge (NULL once it ended), with its purpose and address. */
export interface ChallengeDelivery {
  purpose: string;
  recipientIndex: string;
  deliveryCiphertext: string | null;
}
