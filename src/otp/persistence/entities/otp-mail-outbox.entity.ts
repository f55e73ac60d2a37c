import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { OtpChallengeEntity } from './otp-challenge.entity';

/**
 * One message of the mail outbox: a code's mail (written with its challenge) or a
 * security notice. The payload is AES-GCM encrypted and wiped once the row is settled.
 */
@Entity({ name: 'otp_mail_outbox' })
@Index('otp_mail_outbox_due_idx', ['nextAttemptAt'], { where: `status = 'pending'` })
@Index('otp_mail_outbox_challenge_idx', ['challengeId'])
@Check('otp_mail_outbox_kind_ck', `kind IN ('code', 'budget-notice', 'new-device-notice')`)
@Check('otp_mail_outbox_status_ck', `status IN ('pending', 'delivered', 'abandoned')`)
@Check('otp_mail_outbox_wiped_ck', `status = 'pending' OR payload_ciphertext IS NULL`)
@Check('otp_mail_outbox_challenge_ck', `challenge_id IS NOT NULL OR kind = 'new-device-notice'`)
export class OtpMailOutboxEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  /** NULL for notices that concern no challenge (new-device notices). */
  @Column({ name: 'challenge_id', type: 'uuid', nullable: true })
  challengeId: string | null;

  @ManyToOne(() => OtpChallengeEntity, { onDelete: 'CASCADE', createForeignKeyConstraints: true })
  @JoinColumn({ name: 'challenge_id', foreignKeyConstraintName: 'otp_mail_outbox_challenge_id_fkey' })
  challenge?: OtpChallengeEntity;

  @Column({ type: 'text' })
  kind: string;

  @Column({ type: 'text' })
  purpose: string;

  @Column({ name: 'recipient_index', type: 'text' })
  recipientIndex: string;

  @Column({ name: 'payload_ciphertext', type: 'text', nullable: true })
  payloadCiphertext: string | null;

  @Column({ type: 'text', default: 'pending' })
  status: string;

  @Column({ type: 'smallint', default: 0 })
  attempts: number;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  @Column({ name: 'deadline_at', type: 'timestamptz' })
  deadlineAt: Date;

  @Column({ name: 'claimed_until', type: 'timestamptz', nullable: true })
  claimedUntil: Date | null;

  @Column({ name: 'claimed_by', type: 'text', nullable: true })
  claimedBy: string | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @Column({ name: 'server_message_id', type: 'text', nullable: true })
  serverMessageId: string | null;

  @Column({ name: 'server_response', type: 'text', nullable: true })
  serverResponse: string | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;
}
