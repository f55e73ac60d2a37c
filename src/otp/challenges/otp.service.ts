import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { canonicalEmail, contextHash } from '../crypto/canonical';
import { OtpCipher } from '../crypto/otp-cipher';
import { generateCode } from '../crypto/otp-code';
import { OtpKeyring } from '../crypto/otp-keyring';
import { sealJson, tryOpenJson } from '../crypto/sealed-json';
import { OtpEventBus } from '../events/otp-event-bus';
import { safeLocale } from '../i18n/safe-locale';
import { ChallengeDeliveryDetails, CodeMailPayload } from '../mail/outbox/otp-mail-outbox.payload';
import { OtpMailDispatcher } from '../mail/outbox/otp-mail.dispatcher';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import {
  OtpContextInvalidError,
  OtpInvalidError,
  OtpPurposeUnknownError,
  OtpThrottledError,
} from '../core/otp.errors';
import type { ResolvedChallengeOptions } from './challenge-options';
import { contextProblem, declaredPurpose } from './otp-purposes';
import { OtpChallengeStore } from '../persistence/otp-challenge.store';
import { NewOutboxMail, TokenOnSuccess, VerifyOutcome } from '../persistence/otp-challenge.types';
import { OtpSendLimiter } from '../rate-limit/otp-send-limiter';
import { IssueChallengeInput, IssuedChallenge, VerifiedChallenge, VerifyChallengeInput } from '../core/otp.types';
import { OtpSchemaState } from '../persistence/otp-schema.state';
import { isUuid } from '../crypto/uuid';
import { recipientTagOf } from '../crypto/challenge-id';
import { isoTime } from '../core/iso-time';

/** What the encrypted delivery blob of a challenge holds. */
type DeliveryDetails = ChallengeDeliveryDetails;

/**
 * Issues, resends and verifies email one-time codes. The rules live here; every
 * rule that must hold under concurrency is enforced by one statement in the store.
 */
@Injectable()
export class OtpService {
  private readonly purposeNames: string[];

  constructor(
    @Inject(OTP_RESOLVED_OPTIONS) private readonly options: ResolvedChallengeOptions,
    private readonly keyring: OtpKeyring,
    private readonly cipher: OtpCipher,
    private readonly store: OtpChallengeStore,
    private readonly events: OtpEventBus,
    private readonly dispatcher: OtpMailDispatcher,
    private readonly sendLimits: OtpSendLimiter,
    private readonly schema: OtpSchemaState,
  ) {
    this.purposeNames = Object.keys(options.purposes);
  }

  /**
   * Starts a challenge and writes its mail to the outbox in the same statement;
   * supersedes the address's live one. Never waits for SMTP. Counts the send
   * limits first (per recipient, daily, per network of `input.ip`, global):
   * `OtpThrottledError` when one refuses, `OtpUnavailableError` when the counters
   * cannot be reached; nothing is written then.
   */
  async issue(input: IssueChallengeInput): Promise<IssuedChallenge> {
    this.schema.assertReady();
    const purpose = input.purpose ?? 'login';
    const rules = declaredPurpose(this.options, purpose);
    if (!rules) throw new OtpPurposeUnknownError();
    if (rules.requiresContext && !input.context) throw new OtpContextInvalidError(`purpose "${purpose}" requires a context`);
    const problem = input.context ? contextProblem(rules, input.context) : undefined;
    if (problem) throw new OtpContextInvalidError(problem);

    // One mailbox, one identity: the index, every limit and the mailed address are the canonical form.
    const email = canonicalEmail(input.email);
    const recipientIndex = this.keyring.blindIndex(email);
    await this.sendLimits.count({ scope: 'issue', recipientIndex, purpose, ip: input.ip });

    const challengeId = this.keyring.newChallengeId(recipientIndex);
    const code = generateCode(this.options.codeLength);
    const details: DeliveryDetails = {
      to: email,
      locale: safeLocale(input.locale),
      context: input.context,
      ip: input.ip,
      userAgent: input.userAgent,
      requestedAt: isoTime(new Date()),
    };
    const times = await this.store.supersedeAndInsert({
      id: challengeId,
      recipientIndex,
      purpose,
      contextHash: contextHash(input.context),
      codeDigest: this.keyring.codeDigest(challengeId, purpose, code),
      deliveryCiphertext: sealJson(this.cipher, details, challengeId),
      maxAttempts: this.options.maxAttempts,
      ttlSeconds: rules.ttlSeconds,
      cooldownSeconds: this.options.resend.cooldownSeconds,
      mail: this.sealMail(code, purpose, details),
    });
    this.dispatcher.mailWritten();
    this.events.emit({
      name: 'challenge.issued', outcome: 'success', challengeId, purpose,
      recipientIndex, ip: input.ip, userAgent: input.userAgent,
    });
    return { challengeId, ...times };
  }

  /**
   * Sends a fresh code for a live challenge; earlier codes stay valid, the attempt count stays.
   * Counts the same send limits as `issue` (the network of `client.ip`, else of the issuing request).
   */
  async resend(challengeId: string, client: { ip?: string } = {}): Promise<IssuedChallenge> {
    this.schema.assertReady();
    if (!isUuid(challengeId)) throw new OtpInvalidError();
    // The recipient is needed to seal the new mail; it is gone once the challenge ended.
    const sealed = await this.store.delivery(challengeId);
    const details = sealed?.deliveryCiphertext ? this.openDelivery(sealed.deliveryCiphertext, challengeId) : undefined;
    if (!sealed || !details) {
      this.events.emit({ name: 'challenge.resent', outcome: 'failure', challengeId, detail: { reason: 'invalid' } });
      throw new OtpInvalidError();
    }
    await this.sendLimits.count({ scope: 'resend', recipientIndex: sealed.recipientIndex, purpose: sealed.purpose, ip: client.ip ?? details.ip });
    const code = generateCode(this.options.codeLength);
    const out = await this.store.addCode(
      challengeId,
      {
        purposes: this.purposeNames,
        digests: this.purposeNames.map((p) => this.keyring.codeDigest(challengeId, p, code)),
      },
      this.options.resend,
      this.sealMail(code, sealed.purpose, { ...details, requestedAt: isoTime(new Date()) }),
    );
    if (!out.found || !out.live) {
      this.events.emit({ name: 'challenge.resent', outcome: 'failure', challengeId, detail: { reason: 'invalid' } });
      throw new OtpInvalidError();
    }
    if (!out.resent) {
      this.events.emit({ name: 'challenge.resent', outcome: 'failure', challengeId, purpose: out.purpose ?? undefined, detail: { reason: 'cooldown' } });
      throw new OtpThrottledError(out.waitSeconds || this.options.resend.cooldownSeconds);
    }
    this.dispatcher.mailWritten();
    this.events.emit({ name: 'challenge.resent', outcome: 'success', challengeId, purpose: out.purpose!, recipientIndex: this.recipientIndex(details.to) });
    return { challengeId, expiresAt: out.expiresAt!, resendAvailableAt: out.resendAvailableAt! };
  }

  /**
   * Checks a code. Wrong, expired, superseded, consumed, unknown and
   * wrong-context all throw the same `OtpInvalidError`.
   */
  async verify(input: VerifyChallengeInput): Promise<VerifiedChallenge> {
    return this.check(input);
  }

  /**
   * `verify`, and when the code is right the statement that consumes the challenge
   * also writes its proof token's row (one round trip; `OtpTokenService.verifyAndIssue`).
   */
  async verifyWithToken(input: VerifyChallengeInput, token: TokenOnSuccess): Promise<VerifiedChallenge> {
    return this.check(input, token);
  }

  private async check(input: VerifyChallengeInput, token?: TokenOnSuccess): Promise<VerifiedChallenge> {
    this.schema.assertReady();
    if (!isUuid(input.challengeId) || !/^[0-9]{6,10}$/.test(input.code)) throw new OtpInvalidError();
    const hash = contextHash(input.context);
    const out = await this.store.attempt(
      input.challengeId,
      this.keyring.codeCandidates(input.challengeId, this.purposeNames, input.code),
      hash,
      this.options.failureBudget,
      token,
      // Attempts of one address never share a statement (the tag names the address; a forged one matches no row).
      recipientTagOf(input.challengeId),
    );
    this.emitVerifyEvents(input.challengeId, out);
    // Under an escalating delay no code was compared: a wait is not a verdict on the code.
    if (out.waitSeconds !== null) throw new OtpThrottledError(out.waitSeconds);
    if (!out.consumedAt || !out.purpose || !out.recipientIndex) throw new OtpInvalidError();
    return {
      challengeId: input.challengeId,
      purpose: out.purpose,
      contextHash: out.contextHash,
      recipientIndex: out.recipientIndex,
      verifiedAt: out.consumedAt,
    };
  }

  /**
   * Keyed blind index of an address's canonical form (`canonicalEmail`), as stored; lets hosts
   * bind proofs to their users. Throws `OtpEmailInvalidError` for an address with no canonical form.
   */
  recipientIndex(email: string): string {
    return this.keyring.blindIndex(canonicalEmail(email));
  }

  private emitVerifyEvents(challengeId: string, out: VerifyOutcome): void {
    const base = { challengeId, purpose: out.purpose ?? undefined, recipientIndex: out.recipientIndex ?? undefined };
    if (out.consumedAt) {
      this.events.emit({ ...base, name: 'verify.succeeded', outcome: 'success', detail: { attempt: out.attempts } });
      return;
    }
    if (out.waitSeconds !== null) {
      this.events.emit({ ...base, name: 'verify.failed', outcome: 'failure', detail: { reason: 'throttled', throttler: 'failure-delay', waitSeconds: out.waitSeconds } });
      return;
    }
    const reason = !out.found ? 'unknown' : out.budgetSpent ? 'budget_spent' : out.attempted ? 'wrong_code' : 'not_live';
    this.events.emit({
      ...base, name: 'verify.failed', outcome: 'failure',
      detail: { reason, attempt: out.attempts, maxAttempts: out.maxAttempts, budgetFailures: out.budgetFailures },
    });
    if (out.attempted && out.attempts !== null && out.attempts >= (out.maxAttempts ?? Infinity)) {
      this.events.emit({ ...base, name: 'challenge.exhausted', outcome: 'failure', detail: { maxAttempts: out.maxAttempts } });
    }
    if (out.budgetFailures !== null && out.budgetFailures >= this.options.failureBudget.maxFailures && out.attempted) {
      this.events.emit({ ...base, name: 'budget.spent', outcome: 'failure', detail: { maxFailures: this.options.failureBudget.maxFailures } });
    }
  }

  /** The challenge's delivery details, or undefined when sealed under a key this instance no longer has. */
  private openDelivery(ciphertext: string, challengeId: string): DeliveryDetails | undefined {
    return tryOpenJson<DeliveryDetails>(this.cipher, ciphertext, challengeId);
  }

  /** The outbox row of a code mail: its payload sealed under the encryption key, bound to the row id. */
  private sealMail(code: string, purpose: string, d: DeliveryDetails): NewOutboxMail {
    const id = randomUUID();
    const payload: CodeMailPayload = {
      kind: 'code', to: d.to, code, purpose, locale: d.locale, context: d.context, ip: d.ip, userAgent: d.userAgent,
      requestedAt: d.requestedAt,
    };
    return { id, payloadCiphertext: sealJson(this.cipher, payload, id) };
  }
}
