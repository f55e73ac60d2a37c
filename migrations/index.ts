import { CreateOtpTables1764086400000 } from './1764086400000-CreateOtpTables';

/** Every migration, oldest first: data sources list them here rather than by glob. */
export const OTP_MIGRATIONS = [CreateOtpTables1764086400000];
