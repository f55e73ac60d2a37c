import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One event of the hash-chained audit trail. Written and erased only through the
 * audit store and the database functions of the audit migrations.
 */
@Entity({ name: 'otp_audit_log' })
@Index('otp_audit_log_recipient_idx', ['recipientIndex'], { where: 'recipient_index IS NOT NULL' })
@Index('otp_audit_log_ip_idx', ['ip'], { where: 'ip IS NOT NULL' })
@Index('otp_audit_log_challenge_idx', ['challengeId'], { where: 'challenge_id IS NOT NULL' })
@Index('otp_audit_log_at_idx', ['at'])
export class OtpAuditLogEntity {
  @PrimaryColumn({ type: 'bigint' })
  seq: string;

  @Column({ type: 'timestamptz' })
  at: Date;

  @Column({ type: 'text' })
  event: string;

  @Column({ type: 'text', nullable: true })
  owasp: string | null;

  @Column({ type: 'text' })
  outcome: string;

  @Column({ name: 'challenge_id', type: 'text', nullable: true })
  challengeId: string | null;

  @Column({ type: 'text', nullable: true })
  purpose: string | null;

  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId: string | null;

  @Column({ type: 'jsonb', nullable: true })
  detail: Record<string, unknown> | null;

  @Column({ name: 'subject_commitment', type: 'text', nullable: true })
  subjectCommitment: string | null;

  @Column({ name: 'recipient_index', type: 'text', nullable: true })
  recipientIndex: string | null;

  @Column({ type: 'text', nullable: true })
  ip: string | null;

  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent: string | null;

  @Column({ name: 'pii_salt', type: 'text', nullable: true })
  piiSalt: string | null;

  @Column({ name: 'prev_hash', type: 'text' })
  prevHash: string;

  @Column({ type: 'text' })
  hash: string;

  @Column({ name: 'ip_truncated_at', type: 'timestamptz', nullable: true })
  ipTruncatedAt: Date | null;

  @Column({ name: 'body_version', type: 'smallint', default: 1 })
  bodyVersion: number;

  @Column({ name: 'link_commitment', type: 'text', nullable: true })
  linkCommitment: string | null;

  @Column({ name: 'link_salt', type: 'text', nullable: true })
  linkSalt: string | null;

  @Column({ name: 'ip_network', type: 'text', nullable: true })
  ipNetwork: string | null;

  @Column({ name: 'erased_by', type: 'bigint', nullable: true })
  erasedBy: string | null;
}
