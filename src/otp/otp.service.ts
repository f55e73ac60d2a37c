import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { canonicalEmail, contextHash, OtpContext } from './crypto/canonical';
import { OtpCipher } from './crypto/otp-cipher';
import { generateCode } from './crypto/otp-code';
import { OtpKeyring } from './crypto/otp-keyring';
import { OtpMailer } from './mail/otp-mailer.port';
import { OTP_RESOLVED_OPTIONS } from './otp.module-definition';
import {
  OtpContextInvalidError,
  OtpInvalidError,
  OtpPurposeUnknownError,
  OtpThrottledError,
} from './otp.errors';
import { ResolvedOtpOptions } from './otp-options.interface';
import { OtpChallengeStore } from './persistence/otp-challenge.store';
import { IssueChallengeInput, IssuedChallenge, OtpProof, VerifyChallengeInput } from './otp.types';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What the encrypted delivery blob of a challenge holds. */
interface DeliveryDetails {
  to: string;
  locale?: string;
  context?: OtpContext;
  ip?: string;
  userAgent?: string;
  requestedAt: string;
}

/**
 * Issues, resends and verifies email one-time codes. The rules live here; every
 * rule that must hold under concurrency is enforced by one statement in the store.
 */
@Injectable()
export class OtpService {
  private readonly logger = new Logger(OtpService.name);
  private readonly purposeNames: string[];

  constructor(
    @Inject(OTP_RESOLVED_OPTIONS) private readonly options: ResolvedOtpOptions,
    private readonly keyring: OtpKeyring,
    private readonly cipher: OtpCipher,
    private readonly store: OtpChallengeStore,
    private readonly mailer: OtpMailer,
  ) {
    this.purposeNames = Object.keys(options.purposes);
  }

  /** Starts a challenge and hands its code to the mail port; supersedes the address's live one. */
  async issue(input: IssueChallengeInput): Promise<IssuedChallenge> {
    const purpose = input.purpose ?? 'login';
    const rules = this.options.purposes[purpose];
    if (!rules) throw new OtpPurposeUnknownError();
    if (rules.requiresContext && !input.context) throw new OtpContextInvalidError(`purpose "${purpose}" requires a context`);

    const challengeId = randomUUID();
    const code = generateCode(this.options.codeLength);
    const details: DeliveryDetails = {
      to: input.email.trim(),
      locale: input.locale,
      context: input.context,
      ip: input.ip,
      userAgent: input.userAgent,
      requestedAt: new Date().toISOString(),
    };
    const times = await this.store.supersedeAndInsert({
      id: challengeId,
      recipientIndex: this.recipientIndex(input.email),
      purpose,
      contextHash: contextHash(input.context),
      codeDigest: this.keyring.codeDigest(challengeId, purpose, code),
      deliveryCiphertext: this.cipher.encrypt(JSON.stringify(details), challengeId),
      maxAttempts: this.options.maxAttempts,
      ttlSeconds: rules.ttlSeconds,
      cooldownSeconds: this.options.resend.cooldownSeconds,
    });
    this.dispatch(challengeId, purpose, code, details, times.expiresAt);
    return { challengeId, ...times };
  }

  /** Sends a fresh code for a live challenge; earlier codes stay valid, the attempt count stays. */
  async resend(challengeId: string): Promise<IssuedChallenge> {
    if (!UUID.test(challengeId)) throw new OtpInvalidError();
    const code = generateCode(this.options.codeLength);
    const out = await this.store.addCode(
      challengeId,
      {
        purposes: this.purposeNames,
        digests: this.purposeNames.map((p) => this.keyring.codeDigest(challengeId, p, code)),
      },
      this.options.resend,
    );
    if (!out.found || !out.live) throw new OtpInvalidError();
    if (!out.resent) throw new OtpThrottledError(out.waitSeconds || this.options.resend.cooldownSeconds);
    const details = JSON.parse(this.cipher.decrypt(out.deliveryCiphertext!, challengeId)) as DeliveryDetails;
    this.dispatch(challengeId, out.purpose!, code, details, out.expiresAt!);
    return { challengeId, expiresAt: out.expiresAt!, resendAvailableAt: out.resendAvailableAt! };
  }

  /**
   * Checks a code. Wrong, expired, superseded, consumed, unknown and
   * wrong-context all throw the same `OtpInvalidError`.
   */
  async verify(input: VerifyChallengeInput): Promise<OtpProof> {
    if (!UUID.test(input.challengeId) || !/^[0-9]{6,10}$/.test(input.code)) throw new OtpInvalidError();
    const hash = contextHash(input.context);
    const out = await this.store.attempt(
      input.challengeId,
      this.keyring.codeCandidates(input.challengeId, this.purposeNames, input.code),
      hash,
      this.options.failureBudget,
    );
    if (!out.consumedAt || !out.purpose || !out.recipientIndex) throw new OtpInvalidError();
    return {
      challengeId: input.challengeId,
      purpose: out.purpose,
      contextHash: out.contextHash,
      recipientIndex: out.recipientIndex,
      verifiedAt: out.consumedAt,
    };
  }

  /** Keyed blind index of an address, as stored; lets hosts bind proofs to their users. */
  recipientIndex(email: string): string {
    return this.keyring.blindIndex(canonicalEmail(email));
  }

  /** Hands the code to the mail port without waiting: no caller learns anything from delivery. */
  private dispatch(challengeId: string, purpose: string, code: string, d: DeliveryDetails, expiresAt: Date): void {
    const message = {
      challengeId,
      to: d.to,
      code,
      purpose,
      locale: d.locale,
      context: d.context,
      expiresAt,
      requestedAt: new Date(d.requestedAt),
      ip: d.ip,
      userAgent: d.userAgent,
    };
    setImmediate(() => {
      this.mailer.send(message).catch((err: Error) => {
        this.logger.error(`mail hand-off failed for challenge ${challengeId}: ${err.name}`);
      });
    });
  }
}
