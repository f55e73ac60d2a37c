import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A proof token handed out by a successful verify: only its SHA-256 is stored. */
@Entity({ name: 'otp_tokens' })
@Index('otp_tokens_challenge_uq', ['challengeId'], { unique: true })
@Index('otp_tokens_expires_at_idx', ['expiresAt'])
@Check('otp_tokens_expiry_ck', 'expires_at > issued_at')
export class OtpTokenEntity {
  @PrimaryColumn({ name: 'token_hash', type: 'text' })
  tokenHash: string;

  @Column({ name: 'challenge_id', type: 'uuid' })
  challengeId: string;

  @Column({ type: 'text' })
  purpose: string;

  @Column({ name: 'context_hash', type: 'text', nullable: true })
  contextHash: string | null;

  @Column({ name: 'recipient_index', type: 'text' })
  recipientIndex: string;

  @Column({ type: 'text', array: true })
  amr: string[];

  @Column({ name: 'verified_at', type: 'timestamptz' })
  verifiedAt: Date;

  @Column({ name: 'issued_at', type: 'timestamptz', default: () => 'now()' })
  issuedAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'redeemed_at', type: 'timestamptz', nullable: true })
  redeemedAt: Date | null;
}
