import { SetMetadata } from '@nestjs/common';

export const AUDITED_ACTION = 'otp:audited-action';

/**
 * Marks a route whose HTTP outcome goes to the audit trail as event `action`
 * (e.g. `@Audited('otp.verify')`), with the status and error code. Works with
 * `OtpAuditInterceptor`, which also puts the request context (request id, IP,
 * user agent) in scope for every event emitted while the route runs.
 */
export const Audited = (action: string): MethodDecorator & ClassDecorator => SetMetadata(AUDITED_ACTION, action);
