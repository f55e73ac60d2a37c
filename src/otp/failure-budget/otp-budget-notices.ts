import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { OtpCipher } from '../crypto/otp-cipher';
import { openJson, sealJson } from '../crypto/sealed-json';
import { OtpEventBus } from '../events/otp-event-bus';
import { OtpEvent } from '../events/otp-event';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import type { ResolvedOtpMailOptions } from '../mail/mail-options';
import { ChallengeDeliveryDetails, NoticeMailPayload } from '../mail/outbox/otp-mail-outbox.payload';
import { OtpChallengeStore } from '../persistence/otp-challenge.store';
import { OtpMailOutboxStore } from '../mail/outbox/otp-mail-outbox.store';
import { OtpMailDispatcher } from '../mail/outbox/otp-mail.dispatcher';

/** How long a notice may wait for the relay before it is pointless. */
const NOTICE_DEADLINE_SECONDS = 86_400;

/**
 * Tells a person when their address's failure budget is spent (R13, R19): what
 * happened, when, and where the codes had been requested from. The address is
 * recovered from the challenge's sealed delivery details (the event never
 * carries it); the notice goes through the outbox, at most once per address per
 * `mail.noticeIntervalSeconds`, a gate kept in the database.
 */
@Injectable()
export class OtpBudgetNotices implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('OtpBudgetNotices');
  private unsubscribe?: () => void;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    @Inject(OTP_RESOLVED_OPTIONS) private readonly options: { failureBudget: { windowSeconds: number }; mail: Pick<ResolvedOtpMailOptions, 'noticeIntervalSeconds'> },
    private readonly events: OtpEventBus,
    private readonly store: OtpMailOutboxStore,
    private readonly cipher: OtpCipher,
    private readonly dispatcher: OtpMailDispatcher,
    private readonly challenges: OtpChallengeStore,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.events.subscribe((event) => {
      if (event.name !== 'budget.spent') return;
      const work: Promise<void> = this.onBudgetSpent(event).then(() => undefined, (err: Error) => this.logger.error(`queueing a budget notice failed: ${err.name}`));
      this.pending.add(work);
      void work.finally(() => this.pending.delete(work));
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.unsubscribe?.();
    await Promise.all([...this.pending]);
  }

  /** Queues the notice for the address behind `event`; false when the gate or a missing challenge stops it. */
  async onBudgetSpent(event: Pick<OtpEvent, 'challengeId' | 'recipientIndex' | 'at'>): Promise<boolean> {
    if (!event.challengeId || !event.recipientIndex) return false;
    const challenge = await this.challenges.delivery(event.challengeId);
    if (!challenge?.deliveryCiphertext) return false;
    const details = openJson<ChallengeDeliveryDetails>(this.cipher, challenge.deliveryCiphertext, event.challengeId);
    const id = randomUUID();
    const payload: NoticeMailPayload = {
      kind: 'budget-notice',
      to: details.to,
      locale: details.locale,
      ip: details.ip,
      userAgent: details.userAgent,
      happenedAt: event.at.toISOString(),
      lockSeconds: this.options.failureBudget.windowSeconds,
    };
    const queued = await this.store.queueNoticeOnce(
      {
        id,
        challengeId: event.challengeId,
        purpose: challenge.purpose,
        recipientIndex: event.recipientIndex,
        payloadCiphertext: sealJson(this.cipher, payload, id),
        deadlineSeconds: NOTICE_DEADLINE_SECONDS,
      },
      this.options.mail.noticeIntervalSeconds,
    );
    this.events.emit({
      name: 'notice.queued',
      outcome: queued ? 'success' : 'failure',
      challengeId: event.challengeId,
      purpose: challenge.purpose,
      recipientIndex: event.recipientIndex,
      detail: { kind: 'budget-notice', reason: queued ? null : 'rate_limited' },
    });
    if (queued) this.dispatcher.mailWritten();
    return queued;
  }
}
