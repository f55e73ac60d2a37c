import { Injectable } from '@nestjs/common';
import { OtpSql } from '../persistence/otp-sql';
import { INSERT_TOKEN, REDEEM_TOKEN } from './otp-token.sql';

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

/** Owns `otp_tokens` (see `otp-token.sql.ts`); one SQL statement per method. */
@Injectable()
export class OtpTokenStore {
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
  async redeemIfLive(tokenHash: string): Promise<RedeemOutcome> {
    const [row] = await this.sql.rows('token_redeem', REDEEM_TOKEN, [tokenHash]);
    // A live row seen in the snapshot but not redeemed here lost a race to a concurrent redemption: 'reused'.
    if (!row.redeemed_at) {
      return { redeemed: null, reason: row.miss as TokenMissReason, challengeId: row.prior_challenge_id ?? null };
    }
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
  }
}
