import type { OtpContext } from '../crypto/canonical';

/** Everything a mail about one code needs. Holds the code: never log it. */
export interface OtpMailMessage {
  challengeId: string;
  to: string;
  code: string;
  purpose: string;
  locale?: string;
  context?: OtpContext;
  expiresAt: Date;
  requestedAt: Date;
  ip?: string;
  userAgent?: string;
  /** Id of the outbox row: the same on a retry, so a duplicate carries the same Message-ID. */
  messageId?: string;
}

/** A security notice to a person (no code): sent once an address's failure budget is spent. */
export interface OtpBudgetNoticeMessage {
  kind: 'budget-notice';
  challengeId: string;
  to: string;
  locale?: string;
  /** When the budget was spent. */
  happenedAt: Date;
  /** Where the codes had been requested from. */
  ip?: string;
  userAgent?: string;
  /** How long verification stays locked for the address, at most. */
  lockSeconds: number;
  messageId?: string;
}

/** A security notice (no code, no link): the address signed in from a browser or network not seen before (R19). */
export interface OtpNewDeviceNoticeMessage {
  kind: 'new-device-notice';
  to: string;
  locale?: string;
  /** When the sign-in happened. */
  happenedAt: Date;
  /** Browser and OS family, e.g. "Firefox on Linux"; undefined when the request had no user agent. */
  browser?: string;
  /** Coarse location: the client's IPv4 /24 or IPv6 /48 (never the full address); undefined when unknown. */
  network?: string;
  /** Id of the outbox row: the same on a retry. */
  messageId?: string;
}

/** Security notices a mail port may be asked to send, told apart by `kind`. */
export type OtpNoticeMessage = OtpBudgetNoticeMessage | OtpNewDeviceNoticeMessage;

/** What the relay said when it accepted a message (no content). */
export interface OtpMailReceipt {
  messageId?: string;
  /** The relay's final reply, e.g. `250 2.0.0 Ok: queued as 4F2A1`. */
  response?: string;
}

/** Thrown by a mail port that cannot send notices. */
export class OtpMailUnsupportedError extends Error {
  constructor() {
    super('this mail port does not send notices');
    this.name = 'OtpMailUnsupportedError';
  }
}

/**
 * The mail port: the transport the outbox dispatcher hands each message to.
 * The module chooses the implementation (SMTP when `mail.smtpUrl` is set, the
 * development mailbox otherwise); a host may override the provider. A send
 * that resolves means the relay accepted the message; a rejection is retried
 * with backoff until the message's deadline.
 */
export abstract class OtpMailer {
  abstract send(message: OtpMailMessage): Promise<OtpMailReceipt | void>;

  /**
   * How many messages this port sends at once (an SMTP pool: its connections). The
   * dispatcher hands it no more than that and keeps the rest in its own queue, so a
   * message still waiting is never inside the transport when its row is released, its
   * deadline and challenge are checked when a connection is free, and its send timeout
   * starts then. Unbounded by default.
   */
  get concurrency(): number {
    return Number.POSITIVE_INFINITY;
  }

  /** Security notices; ports that predate them refuse, and the notice is abandoned. */
  async sendNotice(_notice: OtpNoticeMessage): Promise<OtpMailReceipt | void> {
    throw new OtpMailUnsupportedError();
  }
}
