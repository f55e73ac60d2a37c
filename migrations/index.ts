import { CreateOtpTables1764086400000 } from './1764086400000-CreateOtpTables';
import { CreateOtpMailOutbox1764090000000 } from './1764090000000-CreateOtpMailOutbox';
import { CreateOtpTokens1764091000000 } from './1764091000000-CreateOtpTokens';
import { CreateAccounts1764091100000 } from './1764091100000-CreateAccounts';
import { CreateTransfers1764091200000 } from './1764091200000-CreateTransfers';
import { CreateOtpAuditLog1764092000000 } from './1764092000000-CreateOtpAuditLog';
import { TruncateOtpAuditIps1764093000000 } from './1764093000000-TruncateOtpAuditIps';
import { AuditRemovalFloor1764094000000 } from './1764094000000-AuditRemovalFloor';
import { OutboxNotifyOnDemand1764095000000 } from './1764095000000-OutboxNotifyOnDemand';
import { FailureBudgetDelay1764096000000 } from './1764096000000-FailureBudgetDelay';
import { CreateOtpSignInDevices1764096500000 } from './1764096500000-CreateOtpSignInDevices';
import { AuditLinkCommitment1764097000000 } from './1764097000000-AuditLinkCommitment';
import { CreateOtpKeyFingerprints1764097100000 } from './1764097100000-CreateOtpKeyFingerprints';

/** Every migration of the OTP module, oldest first: data sources list them here rather than by glob. */
export const OTP_MIGRATIONS = [CreateOtpTables1764086400000, CreateOtpMailOutbox1764090000000, CreateOtpTokens1764091000000,
  CreateOtpAuditLog1764092000000, TruncateOtpAuditIps1764093000000, AuditRemovalFloor1764094000000,
  OutboxNotifyOnDemand1764095000000, FailureBudgetDelay1764096000000, CreateOtpSignInDevices1764096500000,
  AuditLinkCommitment1764097000000,
  CreateOtpKeyFingerprints1764097100000];

/** Tables of the example host app (accounts, payments), not of the OTP module. */
export const EXAMPLE_APP_MIGRATIONS = [CreateAccounts1764091100000, CreateTransfers1764091200000];

const timestamp = (m: { name: string }) => Number(/\d{13}$/.exec(m.name)?.[0]);

/** What the example app and the tests run, in timestamp order. */
export const ALL_MIGRATIONS = [...OTP_MIGRATIONS, ...EXAMPLE_APP_MIGRATIONS].sort((a, b) => timestamp(a) - timestamp(b));
