import { Injectable } from '@nestjs/common';
import { OtpAuditStore } from '../audit/otp-audit.store';
import { OtpAuditWriter } from '../audit/otp-audit.writer';
import { OtpEventBus } from '../events/otp-event-bus';
import { OtpService } from '../challenges/otp.service';
import { OtpSchemaState } from '../persistence/otp-schema.state';
import { OTP_TABLES } from '../persistence/otp-tables';
import { OtpOpsStore } from './otp-ops.store';

export type ErasureReport = Record<string, number>;

/**
 * Erasure (GDPR Art 17): removes everything linkable to an address. The module's
 * tables that `OTP_TABLES` marks `rows` lose that subject's rows, and so does every
 * `otp_*` table an extension added with a `recipient_index` column; audit rows keep their hashed content but lose
 * their personal fields and the salt binding them, so the chain still verifies
 * and nothing left can be tested against the address.
 */
@Injectable()
export class OtpErasureService {
  constructor(
    private readonly otp: OtpService,
    private readonly ops: OtpOpsStore,
    private readonly audit: OtpAuditStore,
    private readonly writer: OtpAuditWriter,
    private readonly bus: OtpEventBus,
    private readonly schema: OtpSchemaState,
  ) {}

  async eraseEmail(email: string): Promise<ErasureReport> {
    this.schema.assertReady();
    return this.eraseSubject(this.otp.recipientIndex(email));
  }

  /** Same, by blind index (for hosts that keep the index beside their user). */
  async eraseSubject(recipientIndex: string): Promise<ErasureReport> {
    this.schema.assertReady();
    await this.writer.flush(); // events of this subject still queued must be erased too
    const report: ErasureReport = {};
    const own = OTP_TABLES.filter((t) => t.erasure === 'rows').map((t) => t.name);
    const added = (await this.ops.extensionTables()).filter((t) => t.columns.includes('recipient_index')).map((t) => t.name);
    for (const table of [...own, ...added].sort()) report[table] = await this.ops.deleteByRecipientIndex(table, recipientIndex);
    report.otp_audit_log = await this.audit.eraseSubject(recipientIndex);
    // Counts only: recording the index here would link the subject again.
    this.bus.emit({ name: 'records.erased', outcome: 'success', detail: report });
    return report;
  }
}
