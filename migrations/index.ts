import { CreateOtpTables1764086400000 } from './1764086400000-CreateOtpTables';
import { CreateOtpAuditLog1764092000000 } from './1764092000000-CreateOtpAuditLog';

/** Every migration, oldest first: data sources list them here rather than by glob. */
export const OTP_MIGRATIONS = [CreateOtpTables1764086400000, CreateOtpAuditLog1764092000000];
