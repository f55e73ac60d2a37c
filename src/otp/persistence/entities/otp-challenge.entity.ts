import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One challenge: a request for a code, for one address and purpose. Holds no
 * code and no address in clear: code digests are keyed HMACs, the address is a
 * keyed blind index, and what the pending mail needs is AES-GCM encrypted and
 * wiped once the challenge ends. Schema owned by the migrations in `migrations/`.
 */
@Entity({ name: 'otp_challenges' })
@Index('otp_challenges_live_uq', ['recipientIndex', 'purpose'], {
  unique: true,
  where: 'consumed_at IS NULL AND superseded_at IS NULL',
})
@Index('otp_challenges_expires_at_idx', ['expiresAt'])
@Check('otp_challenges_attempts_ck', 'attempts >= 0 AND attempts <= max_attempts')
@Check('otp_challenges_code_digests_ck', 'cardinality(code_digests) BETWEEN 1 AND 3')
export class OtpChallengeEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'recipient_index', type: 'text' })
  recipientIndex: string;

  @Column({ type: 'text' })
  purpose: string;

  @Column({ name: 'context_hash', type: 'text', nullable: true })
  contextHash: string | null;

  /** `kid:hmac` of each live code (at most three). */
  @Column({ name: 'code_digests', type: 'text', array: true })
  codeDigests: string[];

  /** AES-GCM of the recipient, locale and context, for (re)sending; NULL once the challenge ends. */
  @Column({ name: 'delivery_ciphertext', type: 'text', nullable: true })
  deliveryCiphertext: string | null;

  @Column({ type: 'smallint', default: 0 })
  attempts: number;

  @Column({ name: 'max_attempts', type: 'smallint' })
  maxAttempts: number;

  @Column({ type: 'smallint', default: 0 })
  resends: number;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;

  @Column({ name: 'resend_available_at', type: 'timestamptz' })
  resendAvailableAt: Date;

  @Column({ name: 'consumed_at', type: 'timestamptz', nullable: true })
  consumedAt: Date | null;

  @Column({ name: 'superseded_at', type: 'timestamptz', nullable: true })
  supersededAt: Date | null;
}
