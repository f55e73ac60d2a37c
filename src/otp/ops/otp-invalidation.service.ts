import { Injectable } from '@nestjs/common';
import { OtpEventBus } from '../events/otp-event-bus';
import { OtpSchemaState } from '../persistence/otp-schema.state';
import { OtpOpsStore } from './otp-ops.store';

export type InvalidationReport = Record<string, number>;

/**
 * Disaster recovery (R29): after restoring a backup, every challenge and token
 * that was live at the restore point is ended, so codes consumed since then
 * cannot verify again. Token tables are found by name (`otp_*token*`) and ended
 * through `revoked_at`, or else by moving `expires_at` to now on rows not yet used
 * (`redeemed_at` / `consumed_at` / `used_at` NULL). Stateless signed tokens are not
 * in any table: rotate their signing key as well (docs/operations.md).
 */
@Injectable()
export class OtpInvalidationService {
  constructor(
    private readonly ops: OtpOpsStore,
    private readonly bus: OtpEventBus,
    private readonly schema: OtpSchemaState,
  ) {}

  async invalidateAll(): Promise<InvalidationReport> {
    this.schema.assertReady();
    const report: InvalidationReport = { otp_challenges: await this.ops.supersedeAllLiveChallenges() };
    for (const t of await this.ops.tables()) {
      if (!/^otp_.*token/.test(t.name)) continue;
      const used = ['redeemed_at', 'consumed_at', 'used_at'].find((c) => t.columns.includes(c));
      if (t.columns.includes('revoked_at')) report[t.name] = await this.ops.revokeLiveRows(t.name);
      else if (t.columns.includes('expires_at') && used) report[t.name] = await this.ops.expireUnusedRows(t.name, used);
    }
    this.bus.emit({ name: 'challenges.invalidated', outcome: 'success', detail: report });
    return report;
  }
}
