import { Injectable } from '@nestjs/common';
import { OtpEventBus } from '../events/otp-event-bus';
import { OtpChallengeStore } from '../persistence/otp-challenge.store';
import { OtpSchemaState } from '../persistence/otp-schema.state';
import { OTP_TABLES } from '../persistence/otp-tables';
import { ExtensionTable, OtpOpsStore } from './otp-ops.store';

/** Columns that record a token's use: rows with one set are left alone. */
const USE_COLUMNS = ['redeemed_at', 'consumed_at', 'used_at'];

export type InvalidationReport = Record<string, number>;

/**
 * Disaster recovery (R29): after restoring a backup, every challenge and token
 * that was live at the restore point is ended, so codes consumed since then
 * cannot verify again. The module's tables say how in `OTP_TABLES`; token tables an
 * extension added (`otp_*token*`) are ended through `revoked_at`, or else by moving
 * `expires_at` to now on rows not yet used (`redeemed_at` / `consumed_at` / `used_at`
 * NULL). Stateless signed tokens are not
 * in any table: rotate their signing key as well (docs/operations.md).
 */
@Injectable()
export class OtpInvalidationService {
  constructor(
    private readonly ops: OtpOpsStore,
    private readonly challenges: OtpChallengeStore,
    private readonly bus: OtpEventBus,
    private readonly schema: OtpSchemaState,
  ) {}

  async invalidateAll(): Promise<InvalidationReport> {
    this.schema.assertReady();
    const report: InvalidationReport = { otp_challenges: await this.challenges.supersedeAllLive() };
    for (const t of OTP_TABLES) {
      if (typeof t.invalidation === 'object') report[t.name] = await this.ops.expireUnusedRows(t.name, t.invalidation.expire.usedColumn);
    }
    for (const t of await this.ops.extensionTables()) {
      const ended = await this.endExtensionTokens(t);
      if (ended !== undefined) report[t.name] = ended;
    }
    this.bus.emit({ name: 'challenges.invalidated', outcome: 'success', detail: report });
    return report;
  }

  /** Rows of an extension's token table ended (undefined: not a token table, or no way to end its rows). */
  private async endExtensionTokens(t: ExtensionTable): Promise<number | undefined> {
    if (!/^otp_.*token/.test(t.name)) return undefined;
    const used = USE_COLUMNS.find((c) => t.columns.includes(c));
    if (t.columns.includes('revoked_at')) return this.ops.revokeLiveRows(t.name);
    if (t.columns.includes('expires_at') && used) return this.ops.expireUnusedRows(t.name, used);
    return undefined;
  }
}
