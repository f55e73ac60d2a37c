import { CreateOtpTables1764086400000 } from './1764086400000-CreateOtpTables';
import { CreateOtpMailOutbox1764090000000 } from './1764090000000-CreateOtpMailOutbox';

/** Every migration, oldest first: data sources list them here rather than by glob. */
export const OTP_MIGRATIONS = [CreateOtpTables1764086400000, CreateOtpMailOutbox1764090000000];
