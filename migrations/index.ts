import { CreateOtpTables1764086400000 } from './1764086400000-CreateOtpTables';
import { CreateOtpTokens1764091000000 } from './1764091000000-CreateOtpTokens';

/** Every migration, oldest first: data sources list them here rather than by glob. */
export const OTP_MIGRATIONS = [CreateOtpTables1764086400000, CreateOtpTokens1764091000000];
