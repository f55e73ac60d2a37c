import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The id of each batch the audit writer appended (`OtpAuditStore.appendBatch`): a try of a batch that is in writes nothing. */
@Entity({ name: 'otp_audit_batch' })
export class OtpAuditBatchEntity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'otp_audit_batch_pkey' })
  id: string;

  @Column({ name: 'last_seq', type: 'bigint' })
  lastSeq: string;

  @Column({ name: 'appended_at', type: 'timestamptz', default: () => 'now()' })
  appendedAt: Date;
}
