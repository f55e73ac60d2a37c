import type { VerifiedChallenge } from '../core/otp.types';

/**
 * Authentication method reference of every proof (RFC 8176 style): one email
 * factor, not phishing-resistant. Fixed on purpose: no option lets a proof
 * claim more (it never satisfies an MFA/AAL2 policy on its own).
 */
export const OTP_AMR = ['otp_email'] as const;
export type OtpAmr = (typeof OTP_AMR)[number];

/** What a successful verify hands the client: a short-lived, single-use bearer token. */
export interface IssuedOtpToken {
  token: string;
  tokenType: 'Bearer';
  expiresAt: Date;
  purpose: string;
  amr: readonly OtpAmr[];
  challengeId: string;
}

/**
 * A proof whose token was just redeemed (what `@OtpProof()` injects). A class (fields only, never
 * constructed: the guard hands a plain object of this shape) so that `@OtpProof() proof:
 * RedeemedOtpProof` compiles in a host with `isolatedModules` and `emitDecoratorMetadata` (the Nest
 * starter's tsconfig) without `import type` (TS1272 for an interface).
 */
export class RedeemedOtpProof implements VerifiedChallenge {
  declare challengeId: string;
  declare purpose: string;
  /** SHA-256 of the canonical context bound at issue, or null. */
  declare contextHash: string | null;
  /** Keyed blind index of the recipient: binds the proof to one address without revealing it. */
  declare recipientIndex: string;
  declare verifiedAt: Date;
  declare amr: readonly OtpAmr[];
  declare redeemedAt: Date;
}

/** What a token must match to be redeemed. */
export interface OtpTokenExpectation {
  purpose: string;
  /** Hash of the context the action needs (`contextHash(context)`); `null`: the token must carry none. */
  contextHash: string | null;
  /** Address of the user the action belongs to; omitted: not bound to a recipient. */
  recipientEmail?: string;
  /** For the audit trail. */
  ip?: string;
  userAgent?: string;
}
