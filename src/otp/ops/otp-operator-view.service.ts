import { Injectable } from '@nestjs/common';
import { OtpAuditStore } from '../audit/otp-audit.store';
import { OtpAuditWriter } from '../audit/otp-audit.writer';
import { OtpKeyring } from '../crypto/otp-keyring';
import { OtpMailOutboxStore, OutboxStatusRow } from '../mail/outbox/otp-mail-outbox.store';
import { OtpSchemaState } from '../persistence/otp-schema.state';

/** One raised alert, as the audit trail recorded it (`alert.raised`). */
export interface OtpAlertFeedItem {
  seq: string;
  at: Date;
  rule: string;
  count: number | null;
  threshold: number | null;
}

/** Which code key signs, which verify, and the last `key.rotated` event (ids only, never key material). */
export interface OtpKeyState {
  signingKeyId: string;
  verifyingKeyIds: string[];
  lastRotation: { at: Date; from: string | null; to: string | null } | null;
}

const asNumber = (v: unknown) => (typeof v === 'number' ? v : null);
const asString = (v: unknown) => (typeof v === 'string' ? v : null);

/**
 * Read-only views for an operator console: recent deliveries (never an address or a code),
 * the alert feed and the key rotation state. Nothing here changes state.
 */
@Injectable()
export class OtpOperatorView {
  constructor(
    private readonly outbox: OtpMailOutboxStore,
    private readonly audit: OtpAuditStore,
    private readonly writer: OtpAuditWriter,
    private readonly keyring: OtpKeyring,
    private readonly schema: OtpSchemaState,
  ) {}

  /** The newest mails of the outbox (at most 200), newest first. */
  async recentDeliveries(limit = 50): Promise<OutboxStatusRow[]> {
    this.schema.assertReady();
    return this.outbox.recentStatuses(limit);
  }

  /** The newest alerts (at most 1000), newest first. */
  async recentAlerts(limit = 50): Promise<OtpAlertFeedItem[]> {
    this.schema.assertReady();
    await this.writer.flush();
    const rows = await this.audit.recent('alert.raised', limit);
    return rows.map((r) => ({ seq: r.seq, at: r.at, rule: asString(r.detail?.rule) ?? 'unknown', count: asNumber(r.detail?.count), threshold: asNumber(r.detail?.threshold) }));
  }

  async keyState(): Promise<OtpKeyState> {
    this.schema.assertReady();
    await this.writer.flush();
    const [last] = await this.audit.recent('key.rotated', 1);
    return {
      signingKeyId: this.keyring.currentKeyId,
      verifyingKeyIds: this.keyring.keyIds,
      lastRotation: last ? { at: last.at, from: asString(last.detail?.from), to: asString(last.detail?.to) } : null,
    };
  }
}
