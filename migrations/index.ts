import { CreateOtpTables1764086400000 } from './1764086400000-CreateOtpTables';
import { CreateOtpMailOutbox1764090000000 } from './1764090000000-CreateOtpMailOutbox';
import { CreateOtpTokens1764091000000 } from './1764091000000-CreateOtpTokens';
import { CreateOtpAuditLog1764092000000 } from './1764092000000-CreateOtpAuditLog';
import { TruncateOtpAuditIps1764093000000 } from './1764093000000-TruncateOtpAuditIps';
import { AuditRemovalFloor1764094000000 } from './1764094000000-AuditRemovalFloor';
import { OutboxNotifyOnDemand1764095000000 } from './1764095000000-OutboxNotifyOnDemand';
import { FailureBudgetDelay1764096000000 } from './1764096000000-FailureBudgetDelay';
import { CreateOtpSignInDevices1764096500000 } from './1764096500000-CreateOtpSignInDevices';
import { AuditLinkCommitment1764097000000 } from './1764097000000-AuditLinkCommitment';
import { CreateOtpKeyFingerprints1764097100000 } from './1764097100000-CreateOtpKeyFingerprints';
import { AuditBatchIds1764097300000 } from './1764097300000-AuditBatchIds';

/**
 * Every migration of the OTP module, oldest first (one class each): a host's DataSource lists them
 * with `migrationsTableName: 'otp_migrations'`, or runs them with `npx nestjs-email-otp migration:run`.
 * The example app's own tables migrate separately (`src/app/database/migrations`).
 */
export const OTP_MIGRATIONS = [CreateOtpTables1764086400000, CreateOtpMailOutbox1764090000000, CreateOtpTokens1764091000000,
  CreateOtpAuditLog1764092000000, TruncateOtpAuditIps1764093000000, AuditRemovalFloor1764094000000,
  OutboxNotifyOnDemand1764095000000, FailureBudgetDelay1764096000000, CreateOtpSignInDevices1764096500000,
  AuditLinkCommitment1764097000000,
  CreateOtpKeyFingerprints1764097100000, AuditBatchIds1764097300000];
