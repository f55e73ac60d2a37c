import type { TestDatabase } from './test-database';

/**
 * Moves an address's escalating delay (R10) into the past on the database clock,
 * so a test can make the next attempt without waiting: the delay itself has its
 * own tests in test/otp-engine.e2e-spec.ts.
 */
export async function failureDelayPassed(db: TestDatabase, recipientIndex: string): Promise<void> {
  await db.dataSource.query(
    `UPDATE otp_failure_budgets SET next_attempt_at = now() - interval '1 second'
     WHERE recipient_index = $1 AND next_attempt_at IS NOT NULL`,
    [recipientIndex],
  );
}
