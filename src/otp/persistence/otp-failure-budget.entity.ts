import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Failed verifications of one address (by blind index) in the current window. */
@Entity({ name: 'otp_failure_budgets' })
export class OtpFailureBudgetEntity {
  @PrimaryColumn({ name: 'recipient_index', type: 'text' })
  recipientIndex: string;

  @Column({ name: 'window_started_at', type: 'timestamptz' })
  windowStartedAt: Date;

  @Column({ type: 'integer' })
  failures: number;
}
