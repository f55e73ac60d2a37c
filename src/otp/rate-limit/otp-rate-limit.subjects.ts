import { Injectable } from '@nestjs/common';
import { OtpChallengeStore } from '../persistence/otp-challenge.store';
import { OtpSchemaState } from '../persistence/otp-schema.state';
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
  ) {}

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
