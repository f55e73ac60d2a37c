import { OtpChallengeStore } from '../../src/otp/persistence/otp-challenge.store';
import { OtpFailureBudgetStore } from '../../src/otp/persistence/otp-failure-budget.store';
import type { OtpSql } from '../../src/otp/persistence/otp-sql';

/**
 * The statement `call` sends with the most inputs (the length of its first array parameter), captured
 * instead of run: of concurrent calls, those past the free group-commit slots share one.
 */
export async function largestStatementOf(call: (store: OtpChallengeStore) => Promise<unknown>): Promise<{ text: string; values: unknown[] }> {
  let sent = { text: '', values: [] as unknown[] };
  const size = (values: unknown[]) => (Array.isArray(values[0]) ? values[0].length : 0);
  const capturing = {
    rows: async (_label: string, text: string, values: unknown[]) => {
      if (size(values) > size(sent.values)) sent = { text, values };
      return [{}];
    },
  } as unknown as OtpSql;
  await call(new OtpChallengeStore(capturing, new OtpFailureBudgetStore(capturing))).catch(() => undefined);
  return sent;
}
