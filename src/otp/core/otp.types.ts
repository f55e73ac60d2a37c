export type OtpContextValue = string | number | boolean | null;
/** A flat set of facts a code is bound to, such as `{ amount, payee }`. */
export type OtpContext = Record<string, OtpContextValue>;

/** What a caller asks of `OtpService.issue`. */
export interface IssueChallengeInput {
  email: string;
  /** A purpose declared in the module options. @default 'login' */
  purpose?: string;
  /** Facts the code approves, e.g. `{ amount, payee }`; required by some purposes. */
  context?: OtpContext;
  /** BCP 47 language tag for the mail, e.g. `pt-BR`. */
  locale?: string;
  /** Client IP and user agent, shown in the mail so a person can spot a stranger's request. */
  ip?: string;
  userAgent?: string;
}

/** The answer to issue and resend; the same for every well-formed address. */
export interface IssuedChallenge {
  challengeId: string;
  expiresAt: Date;
  resendAvailableAt: Date;
}

export interface VerifyChallengeInput {
  challengeId: string;
  code: string;
  /** The context the code should approve; must equal the one bound at issue. */
  context?: OtpContext;
}

/** What `OtpService.verify` answers: proof that a code was verified, which `OtpTokenService.issue` turns into a token. */
export interface VerifiedChallenge {
  challengeId: string;
  purpose: string;
  /** SHA-256 of the canonical context bound at issue, or null. */
  contextHash: string | null;
  /** Keyed blind index of the recipient: binds the proof to one address without revealing it. */
  recipientIndex: string;
  verifiedAt: Date;
}
