import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Escalating delays between verifications of one address (R10): once an address
 * has failed `failureBudget.escalatingDelay.afterFailures` times in its window,
 * every further verification for it waits until `next_attempt_at`, which each
 * failure pushes further out (doubling, capped). Adding a nullable column takes
 * no table rewrite and no long lock.
 */
export class FailureBudgetDelay1764096000000 implements MigrationInterface {
  name = 'FailureBudgetDelay1764096000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE otp_failure_budgets ADD COLUMN next_attempt_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE otp_failure_budgets DROP COLUMN next_attempt_at`);
  }
}
