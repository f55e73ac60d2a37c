import { OTP_MIGRATIONS } from '../../../../migrations';
import { CreateAccounts1764091100000 } from './1764091100000-CreateAccounts';
import { CreateTransfers1764091200000 } from './1764091200000-CreateTransfers';
import { SessionPasswordGeneration1764097200000 } from './1764097200000-SessionPasswordGeneration';

/** Tables of the example host app (accounts, payments), not of the OTP module: they migrate in the table `migrations`. */
export const EXAMPLE_APP_MIGRATIONS = [CreateAccounts1764091100000, CreateTransfers1764091200000, SessionPasswordGeneration1764097200000];

const timestamp = (m: { name: string }) => Number(/\d{13}$/.exec(m.name)?.[0]);

/** Both sets in timestamp order, in one table: what the test databases run (test/support/test-database.ts). */
export const ALL_MIGRATIONS = [...OTP_MIGRATIONS, ...EXAMPLE_APP_MIGRATIONS].sort((a, b) => timestamp(a) - timestamp(b));
