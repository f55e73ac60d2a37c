import { timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { tryCanonicalEmail } from '../crypto/canonical';
import { randomBytesPooled } from '../crypto/random-pool';
import { sha256 } from '../crypto/sha256';
import { OtpEventBus } from '../events/otp-event-bus';
import { OtpRequiredError } from '../core/otp.errors';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import { OtpService } from '../challenges/otp.service';
import type { VerifiedChallenge, VerifyChallengeInput } from '../core/otp.types';
import { OtpTokenStore } from './otp-token.store';
import { IssuedOtpToken, OTP_AMR, OtpTokenExpectation, RedeemedOtpProof } from './otp-token.types';
import type { ResolvedOtpTokenOptions } from './tokens-options';
import { OtpSchemaState } from '../persistence/otp-schema.state';

const TOKEN_PREFIX = 'otp_';
/** `otp_` and 32 random bytes in base64url. */
const TOKEN_SHAPE = /^otp_[A-Za-z0-9_-]{43}$/;

/**
 * The token is 256 random bits, so an unkeyed SHA-256 is enough to store it:
 * unlike a 6-digit code, nobody can enumerate the inputs. A database leak gives
 * hashes that redeem nothing.
 */
function tokenHash(token: string): string {
  return sha256(token, 'base64url');
}

function newToken(): string {
  return TOKEN_PREFIX + randomBytesPooled(32).toString('base64url');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Turns a verified challenge into a short-lived, single-use bearer token, and
 * redeems such tokens for an action of one purpose, context and recipient.
 * Redemption spends the token even when the action does not match: a token
 * shown to the wrong route is burnt, never left to be tried elsewhere.
 */
@Injectable()
export class OtpTokenService {
  private readonly options: ResolvedOtpTokenOptions;

  constructor(
    @Inject(OTP_RESOLVED_OPTIONS) resolved: { tokens: ResolvedOtpTokenOptions },
    private readonly store: OtpTokenStore,
    private readonly otp: OtpService,
    private readonly events: OtpEventBus,
    private readonly schema: OtpSchemaState,
  ) {
    this.options = resolved.tokens;
  }

  /** Lower-case name of the header `OtpGuard` reads tokens from. */
  get headerName(): string {
    return this.options.headerName;
  }

  /** The host's `currentUserEmail` option, if any. */
  get currentUserEmail(): ResolvedOtpTokenOptions['currentUserEmail'] {
    return this.options.currentUserEmail;
  }

  /** Mints the token of a proof returned by `OtpService.verify`. One token per challenge. */
  async issue(proof: VerifiedChallenge): Promise<IssuedOtpToken> {
    const token = newToken();
    const { expiresAt } = await this.store.insert({
      tokenHash: tokenHash(token),
      challengeId: proof.challengeId,
      purpose: proof.purpose,
      contextHash: proof.contextHash,
      recipientIndex: proof.recipientIndex,
      amr: OTP_AMR,
      verifiedAt: proof.verifiedAt,
      ttlSeconds: this.options.ttlSeconds,
    });
    return this.issued(token, proof, expiresAt);
  }

  /**
   * Verifies a code and mints its token: the same as `OtpService.verify` then
   * `issue`, but the token row is written by the statement that consumes the
   * challenge, so a right code never ends with a consumed challenge and no token.
   */
  async verifyAndIssue(input: VerifyChallengeInput): Promise<IssuedOtpToken> {
    const token = newToken();
    const ttlSeconds = this.options.ttlSeconds;
    const proof = await this.otp.verifyWithToken(input, { tokenHash: tokenHash(token), amr: OTP_AMR, ttlSeconds });
    return this.issued(token, proof, new Date(proof.verifiedAt.getTime() + ttlSeconds * 1000));
  }

  private issued(token: string, proof: VerifiedChallenge, expiresAt: Date): IssuedOtpToken {
    this.events.emit({
      name: 'token.issued', outcome: 'success', challengeId: proof.challengeId, purpose: proof.purpose,
      recipientIndex: proof.recipientIndex, detail: { ttlSeconds: this.options.ttlSeconds },
    });
    return { token, tokenType: 'Bearer', expiresAt, purpose: proof.purpose, amr: OTP_AMR, challengeId: proof.challengeId };
  }

  /**
   * Redeems a token for one action. Unknown, malformed, expired, reused, or
   * issued for another purpose, context or recipient: all throw the same
   * `OtpRequiredError` (the reason goes to the `token.refused` event only).
   */
  async redeem(token: string | undefined | null, expect: OtpTokenExpectation): Promise<RedeemedOtpProof> {
    this.schema.assertReady();
    const meta = { ip: expect.ip, userAgent: expect.userAgent };
    if (typeof token !== 'string' || !TOKEN_SHAPE.test(token)) {
      this.events.emit({ ...meta, name: 'token.refused', outcome: 'failure', purpose: expect.purpose, detail: { reason: token ? 'malformed' : 'missing' } });
      throw new OtpRequiredError();
    }
    const out = await this.store.redeemIfLive(tokenHash(token));
    if (!out.redeemed) {
      this.events.emit({
        ...meta, name: 'token.refused', outcome: 'failure', purpose: expect.purpose, challengeId: out.challengeId ?? undefined,
        detail: { reason: out.reason },
      });
      throw new OtpRequiredError();
    }
    const row = out.redeemed;
    const base = { ...meta, challengeId: row.challengeId, purpose: row.purpose, recipientIndex: row.recipientIndex };
    const mismatch =
      row.purpose !== expect.purpose ? 'wrong_purpose'
        : (row.contextHash ?? '') !== (expect.contextHash ?? '') ? 'wrong_context'
          : expect.recipientEmail !== undefined && !sameText(row.recipientIndex, this.indexOrNone(expect.recipientEmail))
            ? 'wrong_recipient'
            : null;
    if (mismatch) {
      this.events.emit({ ...base, name: 'token.refused', outcome: 'failure', detail: { reason: mismatch, expectedPurpose: expect.purpose } });
      throw new OtpRequiredError();
    }
    this.events.emit({ ...base, name: 'token.redeemed', outcome: 'success', detail: { recipientBound: expect.recipientEmail !== undefined } });
    return {
      challengeId: row.challengeId,
      purpose: row.purpose,
      contextHash: row.contextHash,
      recipientIndex: row.recipientIndex,
      verifiedAt: row.verifiedAt,
      amr: OTP_AMR,
      redeemedAt: row.redeemedAt,
    };
  }

  /** The blind index of the expected recipient; an address with no canonical form matches no proof. */
  private indexOrNone(email: string): string {
    const canonical = tryCanonicalEmail(email);
    return canonical === undefined ? '' : this.otp.recipientIndex(canonical);
  }
}
