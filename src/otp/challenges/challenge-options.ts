import type { ResolvedPurposeOptions } from '../core/purpose-options';

/** The address's failure budget after resolution (`failureBudget`); `delay` is null when escalating delays are off (R10). */
export interface ResolvedFailureBudget {
  maxFailures: number;
  windowSeconds: number;
  delay: { afterFailures: number; baseSeconds: number; maxSeconds: number } | null;
}

/** Resending within a challenge, after resolution (`resend`). */
export interface ResolvedResendOptions {
  cooldownSeconds: number;
  maxResends: number;
  maxLiveCodes: number;
}

/** What `OtpService` reads of the resolved module options: purposes, codes, attempts, the failure budget, resends. */
export interface ResolvedChallengeOptions extends ResolvedPurposeOptions {
  codeLength: number;
  maxAttempts: number;
  failureBudget: ResolvedFailureBudget;
  resend: ResolvedResendOptions;
}
