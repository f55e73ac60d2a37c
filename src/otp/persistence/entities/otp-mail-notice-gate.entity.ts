import { Column, Entity, PrimaryColumn } from 'typeorm';

/** When a security notice of one kind was last queued for an address (the per-address notice gate). */
@Entity({ name: 'otp_mail_notice_gates' })
export class OtpMailNoticeGateEntity {
  @PrimaryColumn({ name: 'recipient_index', type: 'text' })
  recipientIndex: string;

  @PrimaryColumn({ type: 'text' })
  kind: string;

  @Column({ name: 'last_queued_at', type: 'timestamptz' })
  lastQueuedAt: Date;
}
