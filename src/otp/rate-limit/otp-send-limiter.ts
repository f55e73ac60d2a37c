import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { OtpEventBus } from '../events/otp-event-bus';
import { ipNetwork } from '../net/ip-network';
import { OTP_RESOLVED_OPTIONS } from '../core/otp-options.tokens';
import { OtpThrottledError, OtpUnavailableError } from '../core/otp.errors';
import { OtpRateLimit, OtpThrottlerName, ResolvedOtpRateLimits } from './rate-limit-options';
import { OTP_THROTTLER_STORAGE, throttlerKey } from './otp-rate-limit.keys';
import { countInOrder, OtpThrottlerHit, OtpThrottlerRecord } from './otp-throttler-storage';
import { reportStoreFull } from './memory-throttler-storage';

/** One mail about to be sent: whose mailbox, for what, asked from where. */
export interface OtpSend {
  scope: 'issue' | 'resend';
  /** Keyed blind index of the recipient, as stored on the challenge. */
  recipientIndex: string;
  purpose: string;
  /** Client IP of the request; sends without one share a single network. */
  ip?: string;
}

/**
 * The send throttlers, in the order they count a send. A send refused by one is
 * not counted by the ones after it: a recipient's limits first (a refusal for one
 * mailbox spends no network or global budget), then the client's network, and the
 * global budget last, so neither one noisy recipient nor one network can spend it.
 */
export const OTP_SEND_THROTTLERS = ['recipient', 'recipient-daily', 'network-send', 'global-send'] as const satisfies readonly OtpThrottlerName[];

/** Share of the global budget at which `rate_limit.near` is emitted (and `global_send_near` raised). */
export const GLOBAL_SEND_NEAR_SHARE = 0.8;

/**
 * Counts every mail where the code is issued (`OtpService.issue` and `resend`),
 * so every caller, the module's routes and a host's own, meets the same limits.
 * Counters live in the module's throttler storage (shared by every instance with
 * Redis). A limit hit is `OtpThrottledError`; a store that cannot answer is
 * `OtpUnavailableError`: nothing is sent without limits.
 */
@Injectable()
export class OtpSendLimiter {
  private readonly log = new Logger('OtpRateLimit');
  private readonly limits: Record<OtpThrottlerName, OtpRateLimit>;
  private readonly keyPrefix: string;

  constructor(
    @Inject(OTP_RESOLVED_OPTIONS) options: { rateLimits: ResolvedOtpRateLimits },
    @Inject(OTP_THROTTLER_STORAGE) private readonly storage: ThrottlerStorage,
    private readonly events: OtpEventBus,
  ) {
    this.limits = options.rateLimits.limits;
    this.keyPrefix = options.rateLimits.keyPrefix;
  }

  /**
   * Counts one send on every send throttler, in order, in one storage call; throws for the first
   * that refuses it (the ones after it do not count it).
   */
  async count(send: OtpSend): Promise<void> {
    const hits = this.hits(send);
    let records: OtpThrottlerRecord[];
    try {
      records = await countInOrder(this.storage, hits);
    } catch (err) {
      reportStoreFull(this.events, err, send.ip, send.scope);
      this.log.error(`rate-limit store failed (${(err as Error).name}); refusing the send`);
      throw new OtpUnavailableError();
    }
    const last = records.length - 1;
    if (records[last]?.isBlocked) {
      this.events.emit({ name: 'rate_limit.exceeded', outcome: 'failure', ip: send.ip, detail: { throttler: hits[last].throttlerName, scope: send.scope } });
      throw new OtpThrottledError(records[last].timeToBlockExpire);
    }
    const global = records[OTP_SEND_THROTTLERS.indexOf('global-send')];
    const { limit, ttlSeconds } = this.limits['global-send'];
    const near = Math.ceil(limit * GLOBAL_SEND_NEAR_SHARE);
    if (global?.totalHits === near) {
      // Emitted by the one send that reaches the mark (the counter is shared): once per window, not per send.
      this.events.emit({
        name: 'rate_limit.near', outcome: 'success',
        detail: { throttler: 'global-send', hits: global.totalHits, threshold: near, limit, windowSeconds: ttlSeconds },
      });
    }
  }

  private hits(send: OtpSend): OtpThrottlerHit[] {
    return OTP_SEND_THROTTLERS.map((name) => {
      const { limit, ttlSeconds } = this.limits[name];
      const ttl = ttlSeconds * 1000;
      return { key: throttlerKey(this.keyPrefix, name, trackerOf(name, send)), ttl, limit, blockDuration: ttl, throttlerName: name };
    });
  }
}

/** What each send throttler counts; the same trackers the HTTP guard used, so counters carry over. */
function trackerOf(name: (typeof OTP_SEND_THROTTLERS)[number], send: OtpSend): string {
  switch (name) {
    case 'recipient':
      return `r|${send.recipientIndex}|${send.purpose}`;
    case 'recipient-daily':
      return `r|${send.recipientIndex}`;
    case 'network-send':
      return `n|${networkOf(send.ip)}`;
    case 'global-send':
      return 'global';
  }
}

/** IPv4 /24, IPv6 /48 (IPv4-mapped IPv6 as IPv4); anything else, or no IP, is the one network `unknown`. */
function networkOf(ip: string | undefined): string {
  const plain = ip?.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
  return ipNetwork(plain) ?? 'unknown';
}
