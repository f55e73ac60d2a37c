import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/** The link the audit chain starts from once retention removed its prefix (one row). */
@Entity({ name: 'otp_audit_anchor' })
@Check('otp_audit_anchor_id_check', 'id = 1')
export class OtpAuditAnchorEntity {
  @PrimaryColumn({ type: 'smallint' })
  id: number;

  @Column({ type: 'bigint' })
  seq: string;

  @Column({ type: 'text' })
  hash: string;

  @Column({ name: 'purged_at', type: 'timestamptz', nullable: true })
  purgedAt: Date | null;
}
