import { Injectable } from '@nestjs/common';
import { OtpSql } from '../persistence/otp-sql';
import { GroupCommit } from '../persistence/group-commit';
import { INSERT_TOKEN, REDEEM_TOKENS } from './otp-token.sql';

export interface NewTokenRow {
  tokenHash: string;
  challengeId: string;
  purpose: string;
  contextHash: string | null;
  recipientIndex: string;
  amr: readonly string[];
  verifiedAt: Date;
  ttlSeconds: number;
}

export interface RedeemedTokenRow {
  challengeId: string;
  purpose: string;
  contextHash: string | null;
  recipientIndex: string;
  amr: string[];
  verifiedAt: Date;
  expiresAt: Date;
  redeemedAt: Date;
}

/** Why a redemption found nothing to redeem. */
export type TokenMissReason = 'unknown' | 'reused' | 'expired';

export type RedeemOutcome = { redeemed: RedeemedTokenRow } | { redeemed: null; reason: TokenMissReason; challengeId: string | null };

/** Redemption statements in flight at once per process (group commit): one, so that those arriving meanwhile go together. */
export const REDEEM_STATEMENTS_IN_FLIGHT = 1;
/** Redemptions one statement takes at most. */
export const REDEEM_BATCH_MAX = 64;

/**
 * Owns `otp_tokens` (see `otp-token.sql.ts`); one SQL statement per method. Redemptions go by group
 * commit (`GroupCommit`): alone when a slot is free, together with those arriving while all are out,
 * each token once per batch (two redemptions of one token are two statements: the row lock lets one through).
 */
@Injectable()
export class OtpTokenStore {
  private readonly redemptions = new GroupCommit<string, RedeemOutcome>({
    slots: REDEEM_STATEMENTS_IN_FLIGHT,
    maxBatch: REDEEM_BATCH_MAX,
    keyOf: (hash) => hash,
    write: (hashes) => this.redeemBatch(hashes),
  });

  constructor(private readonly sql: OtpSql) {}

  /** Stores a new token's hash; its expiry is taken from the database clock. */
  async insert(row: NewTokenRow): Promise<{ expiresAt: Date }> {
    const [out] = await this.sql.rows('token_insert', INSERT_TOKEN,
      [row.tokenHash, row.challengeId, row.purpose, row.contextHash, row.recipientIndex, row.amr, row.verifiedAt, row.ttlSeconds],
    );
    return { expiresAt: new Date(out.expires_at) };
  }

  /**
   * Marks a live token redeemed and returns it, in one statement: of two
   * concurrent redemptions the row lock lets exactly one through. When nothing
   * was redeemed, the same snapshot tells why (for the audit trail only).
   */
  redeemIfLive(tokenHash: string): Promise<RedeemOutcome> {
    return this.redemptions.run(tokenHash);
  }

  private async redeemBatch(hashes: string[]): Promise<RedeemOutcome[]> {
    const rows = await this.sql.rows('token_redeem', REDEEM_TOKENS, [hashes]);
    return rows.map((row): RedeemOutcome => {
      // A live row seen in the snapshot but not redeemed here lost a race to a concurrent redemption: 'reused'.
      if (!row.redeemed_at) return { redeemed: null, reason: row.miss as TokenMissReason, challengeId: row.prior_challenge_id ?? null };
      return {
        redeemed: {
          challengeId: row.challenge_id,
          purpose: row.purpose,
          contextHash: row.context_hash,
          recipientIndex: row.recipient_index,
          amr: row.amr,
          verifiedAt: new Date(row.verified_at),
          expiresAt: new Date(row.expires_at),
          redeemedAt: new Date(row.redeemed_at),
        },
      };
    });
  }
}
