import type { OtpProof } from '../otp.types';

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

/** A proof whose token was just redeemed (what `@OtpProof()` injects). */
export interface RedeemedOtpProof extends OtpProof {
  amr: readonly OtpAmr[];
  redeemedAt: Date;
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
