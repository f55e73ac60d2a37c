import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/** The last link of the audit chain (one row): appends lock it. */
@Entity({ name: 'otp_audit_head' })
@Check('otp_audit_head_id_check', 'id = 1')
export class OtpAuditHeadEntity {
  @PrimaryColumn({ type: 'smallint' })
  id: number;

  @Column({ type: 'bigint' })
  seq: string;

  @Column({ type: 'text' })
  hash: string;
}
