/**
 * Statements on `otp_failure_budgets`, owned by `OtpFailureBudgetStore`. The verify
 * statement charges and re-checks the budget in the same statement that counts the
 * attempt, by composing `budgetJoin`, `budgetState` and `passBudget`.
 */

/** SQL placeholders of the budget's limits in the composing statement. */
export interface BudgetParams {
  windowSeconds: string;
  maxFailures: string;
  afterFailures: string;
  baseSeconds: string;
  maxSeconds: string;
}

/** The window of budget row `b` has passed: its failures no longer count. */
const lapsed = (p: BudgetParams) => `b.window_started_at <= now() - make_interval(secs => ${p.windowSeconds})`;

/** When the next attempt may come after `failures` failures (escalating delays, R10), NULL below the threshold. */
const waitAfter = (p: BudgetParams, failures: string) =>
  `CASE WHEN ${failures} >= ${p.afterFailures} THEN now() + make_interval(secs => least(${p.maxSeconds}, ${p.baseSeconds} * power(2, ${failures} - ${p.afterFailures}))) END`;

/** Joins the budget row `b` of address `recipientIndex` while its window runs. */
export const budgetJoin = (p: BudgetParams, recipientIndex: string) => `LEFT JOIN otp_failure_budgets b ON b.recipient_index = ${recipientIndex}
           AND b.window_started_at > now() - make_interval(secs => ${p.windowSeconds})`;

/** Columns `spent` and `wait_seconds` of the joined budget row `b`, as the statement's snapshot saw it. */
export const budgetState = (p: BudgetParams) => `coalesce(b.failures >= ${p.maxFailures}, false) AS spent,
           -- A spent budget is not a wait: it answers like every other refusal until the window passes.
           CASE WHEN b.failures >= ${p.afterFailures} AND b.failures < ${p.maxFailures} AND b.next_attempt_at > now()
             THEN ceil(extract(epoch FROM b.next_attempt_at - now()))::int END AS wait_seconds`;

/**
 * Passes the budget row of each attempt in `target` (columns recipient_index, matches,
 * live, wait_seconds; each address at most once) under its lock, returning each passed
 * address with the failures counted (no row when refused).
 */
export function passBudget(p: BudgetParams, target: string): string {
  const failuresBefore = `CASE WHEN ${lapsed(p)} THEN 0 ELSE b.failures END`;
  return `-- Every live attempt passes the address's budget row under its lock: a wrong code charges
         -- it, a right code only re-checks it (spent? waiting?), so no concurrent failure is missed.
         -- A right code for an address that never failed leaves a row with no failures and no
         -- window (-infinity: the next failure starts one).
         INSERT INTO otp_failure_budgets AS b (recipient_index, window_started_at, failures, next_attempt_at)
         SELECT t.recipient_index, CASE WHEN t.matches THEN '-infinity'::timestamptz ELSE now() END,
           CASE WHEN t.matches THEN 0 ELSE 1 END, CASE WHEN NOT t.matches THEN ${waitAfter(p, '1')} END
         FROM ${target} t WHERE t.live AND t.wait_seconds IS NULL
         -- Rows locked in the order of the address index: two statements of several addresses each do not deadlock on these rows.
         ORDER BY t.recipient_index
         ON CONFLICT (recipient_index) DO UPDATE SET
           window_started_at = CASE WHEN EXCLUDED.failures = 0 OR NOT ${lapsed(p)} THEN b.window_started_at ELSE now() END,
           failures = CASE WHEN EXCLUDED.failures = 0 THEN b.failures ELSE ${failuresBefore} + 1 END,
           next_attempt_at = CASE WHEN EXCLUDED.failures = 0 THEN b.next_attempt_at
             ELSE ${waitAfter(p, `(${failuresBefore} + 1)`)} END
         WHERE ${lapsed(p)} OR (b.failures < ${p.maxFailures}
           AND (b.failures < ${p.afterFailures} OR b.next_attempt_at IS NULL OR b.next_attempt_at <= now()))
         RETURNING b.recipient_index, CASE WHEN ${lapsed(p)} THEN 0 ELSE b.failures END AS failures`;
}

export const BUDGET_NOW = `SELECT failures, ceil(extract(epoch FROM next_attempt_at - now()))::int AS wait_seconds
   FROM otp_failure_budgets WHERE recipient_index = $1`;

export const PURGE_LAPSED_BUDGETS = `DELETE FROM otp_failure_budgets WHERE window_started_at <= now() - make_interval(secs => $1)`;
