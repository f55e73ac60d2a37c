import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { OtpAuditStore } from '../audit/otp-audit.store';
import { OtpAuditWriter } from '../audit/otp-audit.writer';
import { OtpKeyring, ResolvedOtpKeys } from '../crypto/otp-keyring';
import { OtpEventBus } from '../events/otp-event-bus';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import { OtpSchemaState } from '../persistence/otp-schema.state';

/**
 * Records `key.rotated` in the audit trail when an instance starts signing codes
 * with a key id other than the last one recorded (ids only, never key material).
 */
@Injectable()
export class OtpKeyAuditService implements OnApplicationBootstrap {
  private readonly logger = new Logger('OtpKeys');

  constructor(
    private readonly keyring: OtpKeyring,
    private readonly audit: OtpAuditStore,
    private readonly writer: OtpAuditWriter,
    private readonly bus: OtpEventBus,
    @Inject(OTP_RESOLVED_OPTIONS) private readonly options: Pick<ResolvedOtpKeys, 'ephemeralKeys'>,
    private readonly schema: OtpSchemaState,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.ephemeralKeys || !this.schema.ready) return;
    try {
      const last = await this.audit.latest('key.rotated');
      const current = this.keyring.currentKeyId;
      if (last?.detail?.to === current) return;
      this.bus.emit({
        name: 'key.rotated', outcome: 'success',
        detail: { from: typeof last?.detail?.to === 'string' ? last.detail.to : null, to: current, verifying: this.keyring.keyIds.join(',') },
      });
      await this.writer.flush();
    } catch (err) {
      this.logger.error(`could not record the signing key id: ${(err as Error).message}`);
    }
  }
}
