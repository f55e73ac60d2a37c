import { Injectable } from '@nestjs/common';
import { BUDGET_NOW, PURGE_LAPSED_BUDGETS } from './otp-failure-budget.sql';
import { OtpSql } from './otp-sql';

/**
 * Owns `otp_failure_budgets` (see `otp-failure-budget.sql.ts`). Budgets are charged by
 * the verify statement of `OtpChallengeStore`, which composes this table's fragments.
 */
@Injectable()
export class OtpFailureBudgetStore {
  constructor(private readonly sql: OtpSql) {}

  /** The address's budget row as it is now: failures and seconds until the next attempt may come. */
  async current(recipientIndex: string): Promise<{ failures: number; waitSeconds: number | null } | null> {
    const [row] = await this.sql.rows('budget_after_race', BUDGET_NOW, [recipientIndex]);
    return row ? { failures: row.failures, waitSeconds: row.wait_seconds === null ? null : Number(row.wait_seconds) } : null;
  }

  /** Failure budgets whose window has passed: they no longer limit anything. Returns the row count. */
  async purgeLapsed(windowSeconds: number): Promise<number> {
    return this.sql.count('budget_purge', PURGE_LAPSED_BUDGETS, [windowSeconds], 'unprepared');
  }
}
