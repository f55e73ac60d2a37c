import { OtpAuditAnchorEntity } from './entities/otp-audit-anchor.entity';
import { OtpAuditBatchEntity } from './entities/otp-audit-batch.entity';
import { OtpAuditHeadEntity } from './entities/otp-audit-head.entity';
import { OtpAuditLogEntity } from './entities/otp-audit-log.entity';
import { OtpAuditPolicyEntity } from './entities/otp-audit-policy.entity';
import { OtpChallengeEntity } from './entities/otp-challenge.entity';
import { OtpFailureBudgetEntity } from './entities/otp-failure-budget.entity';
import { OtpKeyFingerprintEntity } from './entities/otp-key-fingerprint.entity';
import { OtpMailNoticeGateEntity } from './entities/otp-mail-notice-gate.entity';
import { OtpMailOutboxEntity } from './entities/otp-mail-outbox.entity';
import { OtpSignInDeviceEntity } from './entities/otp-sign-in-device.entity';
import { OtpTokenEntity } from './entities/otp-token.entity';

/**
 * Entities of the module, one per table of `OTP_TABLES`, for a host's TypeORM
 * configuration (`entities` or `autoLoadEntities`). They describe the schema the
 * migrations create, so `migration:generate` finds nothing; the stores query by SQL.
 */
export const OTP_ENTITIES = [OtpAuditAnchorEntity, OtpAuditBatchEntity, OtpAuditHeadEntity, OtpAuditLogEntity, OtpAuditPolicyEntity, OtpChallengeEntity,
  OtpFailureBudgetEntity, OtpKeyFingerprintEntity, OtpMailNoticeGateEntity, OtpMailOutboxEntity, OtpSignInDeviceEntity, OtpTokenEntity];
