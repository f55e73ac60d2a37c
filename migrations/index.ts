import { CreateOtpTables1764086400000 } from './1764086400000-CreateOtpTables';
import { CreateOtpTokens1764091000000 } from './1764091000000-CreateOtpTokens';
import { CreateAccounts1764091100000 } from './1764091100000-CreateAccounts';
import { CreateTransfers1764091200000 } from './1764091200000-CreateTransfers';

/** Every migration, oldest first: data sources list them here rather than by glob. */
export const OTP_MIGRATIONS = [CreateOtpTables1764086400000, CreateOtpTokens1764091000000];

/** Tables of the example host app (accounts, payments), not of the OTP module. */
export const EXAMPLE_APP_MIGRATIONS = [CreateAccounts1764091100000, CreateTransfers1764091200000];

/** What the example app and the tests run. */
export const ALL_MIGRATIONS = [...OTP_MIGRATIONS, ...EXAMPLE_APP_MIGRATIONS];
