import { Check, Column, Entity, PrimaryColumn } from 'typeorm';

/** Failed verifications of one address (by blind index) in the current window. */
@Entity({ name: 'otp_failure_budgets' })
@Check('otp_failure_budgets_failures_ck', 'failures >= 0')
export class OtpFailureBudgetEntity {
  @PrimaryColumn({ name: 'recipient_index', type: 'text' })
  recipientIndex: string;

  @Column({ name: 'window_started_at', type: 'timestamptz' })
  windowStartedAt: Date;

  @Column({ type: 'integer' })
  failures: number;

  /** Under escalating delays: no verification for this address before this time. */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;
}
