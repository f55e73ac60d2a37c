import { Provider } from '@nestjs/common';
import { OtpErasureService } from './otp-erasure.service';
import { OtpInvalidationService } from './otp-invalidation.service';
import { OtpKeyAuditService } from './otp-key-audit.service';
import { OtpOperatorView } from './otp-operator-view.service';
import { OtpOpsStore } from './otp-ops.store';
import { OtpRetentionService } from './otp-retention.service';

/** Retention, erasure, invalidation, key audit and the operator views, registered by `OtpModule`. */
export const OTP_OPS_PROVIDERS: Provider[] = [OtpOpsStore, OtpRetentionService, OtpErasureService, OtpInvalidationService, OtpKeyAuditService, OtpOperatorView];
