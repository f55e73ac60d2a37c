import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import { OtpService } from '../challenges/otp.service';
import { untaggedChallengeId } from '../crypto/challenge-id';
import { OtpSchemaState } from '../persistence/otp-schema.state';
import { ChainVerification, verifyAuditChain } from './audit-chain.verifier';
import { OtpAuditWriter } from './otp-audit.writer';
import { AuditFilter, AuditRecord, OtpAuditStore } from './otp-audit.store';

/** What operators may search by; `email` is turned into its blind index, never stored or compared in clear. */
export interface AuditQuery extends Omit<AuditFilter, 'recipientIndex'> {
  email?: string;
  recipientIndex?: string;
}

/** The earliest date an audit search takes. */
export const AUDIT_QUERY_EARLIEST = new Date('1970-01-01T00:00:00.000Z');
/** The latest date an audit search takes: JavaScript holds dates PostgreSQL cannot (years past 294276 or before 4713 BC). */
export const AUDIT_QUERY_LATEST = new Date('9999-12-31T23:59:59.999Z');

/** Refuses a `from`/`to` outside years 1970..9999 (or not a date) as bad input, before any query. */
function assertSearchableDates(q: AuditQuery): void {
  for (const field of ['from', 'to'] as const) {
    const at: unknown = q[field];
    if (at === undefined || at === null) continue;
    const ms = at instanceof Date ? at.getTime() : Number.NaN;
    if (!(ms >= AUDIT_QUERY_EARLIEST.getTime() && ms <= AUDIT_QUERY_LATEST.getTime())) {
      throw new BadRequestException({ error: 'validation_failed', message: 'The request is not valid.', details: [`${field} must be a date from 1970 to 9999`] });
    }
  }
}

/** Read side of the audit trail for operators and auditors. */
@Injectable()
export class OtpAuditService {
  constructor(
    private readonly store: OtpAuditStore,
    private readonly writer: OtpAuditWriter,
    private readonly otp: OtpService,
    @InjectDataSource() private readonly db: DataSource,
    @Inject(OTP_RESOLVED_OPTIONS) private readonly options: { retention: { ipTruncateSeconds: number; auditSeconds: number } },
    private readonly schema: OtpSchemaState,
  ) {}

  /**
   * Events matching the query, oldest first or with `order: 'desc'` newest first (at most `limit`,
   * capped at 1000; page with `afterSeq`). A `from` or `to` outside years 1970..9999 is a 400
   * `validation_failed` (`BadRequestException`). `challengeId` takes the id a client has or the
   * id as rows and logs show it (its recipient tag zeroed, `untaggedChallengeId`): the same rows.
   */
  async list(q: AuditQuery): Promise<AuditRecord[]> {
    assertSearchableDates(q);
    this.schema.assertReady();
    await this.writer.flush();
    const { email, challengeId, ...rest } = q;
    return this.store.find({
      ...rest,
      recipientIndex: email ? this.otp.recipientIndex(email) : q.recipientIndex,
      challengeId: challengeId && untaggedChallengeId(challengeId),
    });
  }

  /** Every matching event as JSON lines, page by page, into `write`; returns the count. */
  async exportJsonLines(q: AuditQuery, write: (line: string) => void | Promise<void>): Promise<number> {
    let afterSeq = q.afterSeq;
    let count = 0;
    const cap = q.limit ?? Number.MAX_SAFE_INTEGER;
    while (count < cap) {
      const page = await this.list({ ...q, order: 'asc', afterSeq, limit: Math.min(1000, cap - count) });
      for (const r of page) await write(JSON.stringify({ ...r, at: r.at.toISOString() }) + '\n');
      count += page.length;
      if (page.length < 1000) break;
      afterSeq = page[page.length - 1].seq;
    }
    return count;
  }

  /**
   * Checks the whole chain from its anchor (see `npm run audit:verify`), with this app's
   * IP window (`retention.ipTruncateSeconds`): no row may have been truncated earlier.
   */
  async verifyChain(): Promise<ChainVerification> {
    this.schema.assertReady();
    await this.writer.flush();
    const { ipTruncateSeconds, auditSeconds } = this.options.retention;
    return verifyAuditChain((sql, params) => this.db.query(sql, params), { ipTruncateSeconds, auditRetentionSeconds: auditSeconds });
  }
}
