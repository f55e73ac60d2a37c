import { Injectable } from '@nestjs/common';
import { OtpChallengeStore } from '../persistence/otp-challenge.store';
import { OtpSchemaState } from '../persistence/otp-schema.state';
import { recipientTagOf } from '../crypto/challenge-id';
import { OtpKeyring } from '../crypto/otp-keyring';
import { isUuid } from '../crypto/uuid';

/** Whose mailbox a request concerns, as the throttlers count it. */
export interface OtpRateLimitSubject {
  /** Keyed blind index of the canonical address: the same for every spelling, and no address in Redis. */
  recipientIndex: string;
  purpose: string;
}

/**
 * Finds the recipient a verify request is about, before validation has run
 * (guards run before pipes). A malformed or unknown id gives `undefined` and
 * can never make the tracker throw. Issue and resend need no lookup here: their
 * recipient limits are counted where the code is issued (`OtpSendLimiter`).
 */
@Injectable()
export class OtpRateLimitSubjects {
  constructor(
    private readonly store: OtpChallengeStore,
    private readonly schema: OtpSchemaState,
    private readonly keyring: OtpKeyring,
  ) {}

  /**
   * The recipient tag a verify counts under (`OtpKeyring.recipientTag`). A UUIDv8 id carries
   * it: read from the id, no database read. An id minted before tags (v4) is looked up
   * (`fromChallenge`) and its recipient's tag computed, so old and new challenges of one
   * recipient share one counter. `undefined` for an unknown or malformed v4 id.
   */
  async tagOf(id: unknown): Promise<string | undefined> {
    const carried = recipientTagOf(id);
    if (carried !== undefined) {
      this.schema.assertReady(); // as with a lookup: a verify route answers 503 until the schema is ready
      return carried;
    }
    const subject = await this.fromChallenge(id);
    return subject && this.keyring.recipientTag(subject.recipientIndex);
  }

  /**
   * From a challenge id (resend and verify carry no address): one primary-key
   * lookup. Unknown or malformed ids give `undefined`.
   */
  async fromChallenge(id: unknown): Promise<OtpRateLimitSubject | undefined> {
    if (!isUuid(id)) return undefined;
    this.schema.assertReady();
    const row = await this.store.findRateLimitSubject(id.toLowerCase());
    return row ?? undefined;
  }
}
