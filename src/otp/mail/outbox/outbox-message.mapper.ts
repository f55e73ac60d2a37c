import type { OtpMailMessage, OtpNoticeMessage } from '../otp-mailer.port';
import type { OutboxPayload } from './otp-mail-outbox.payload';
import type { OutboxRow } from './otp-mail-outbox.store';

/** What the mail port is handed for one outbox row: a code mail or a security notice. */
export type OutboxPortMessage = { code: OtpMailMessage } | { notice: OtpNoticeMessage };

/**
 * Turns an opened outbox payload into the port's message. The row id is the Message-ID
 * (the same on every retry) and a code's expiry is the row's deadline.
 */
export function outboxMessage(row: Pick<OutboxRow, 'id' | 'challengeId' | 'deadlineAt'>, p: OutboxPayload): OutboxPortMessage {
  if (p.kind === 'new-device-notice') {
    return {
      notice: {
        kind: 'new-device-notice', to: p.to, locale: p.locale, browser: p.browser, network: p.network,
        happenedAt: new Date(p.happenedAt), messageId: row.id,
      },
    };
  }
  // Code and budget-notice rows always name their challenge (otp_mail_outbox_challenge_ck).
  const challengeId = row.challengeId!;
  if (p.kind === 'budget-notice') {
    return {
      notice: {
        kind: 'budget-notice', challengeId, to: p.to, locale: p.locale, ip: p.ip, userAgent: p.userAgent,
        happenedAt: new Date(p.happenedAt), lockSeconds: p.lockSeconds, messageId: row.id,
      },
    };
  }
  return {
    code: {
      challengeId, to: p.to, code: p.code, purpose: p.purpose, locale: p.locale, context: p.context,
      expiresAt: row.deadlineAt, requestedAt: new Date(p.requestedAt), ip: p.ip, userAgent: p.userAgent, messageId: row.id,
    },
  };
}
