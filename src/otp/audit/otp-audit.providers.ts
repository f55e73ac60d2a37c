import { Provider, Type } from '@nestjs/common';
import { OtpAdminGuard } from '../operator/otp-admin.guard';
import { OtpAuditAdminController } from './otp-audit-admin.controller';
import { OtpAuditService } from './otp-audit.service';
import { OtpAuditStore } from './otp-audit.store';
import { OtpAuditWriter } from './otp-audit.writer';
import { OtpAuditInterceptor } from './audit.interceptor';
import { OtpAuditedRoutes } from './audited-route';

/** Providers of the audit trail, registered by `OtpModule`. */
export const OTP_AUDIT_PROVIDERS: Provider[] = [OtpAuditStore, OtpAuditWriter, OtpAuditService, OtpAuditInterceptor, OtpAuditedRoutes, OtpAdminGuard];

/** Operator routes (404 until `audit.adminToken` is set). */
export const OTP_AUDIT_CONTROLLERS: Type<unknown>[] = [OtpAuditAdminController];
