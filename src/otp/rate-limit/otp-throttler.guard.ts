import { ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { normalizeIp, ThrottlerGuard, ThrottlerModuleOptions, ThrottlerRequest, ThrottlerStorage } from '@nestjs/throttler';
import { createHash } from 'node:crypto';
import { OtpEventBus } from '../events/otp-event-bus';
import { OTP_RATE_LIMIT_SETTINGS, OtpRateLimitSettings } from '../otp.module-definition';
import { OtpThrottledError, OtpUnavailableError } from '../otp.errors';
import { ResolvedOtpOptions } from '../otp-options.interface';
import { OtpThrottlerName } from './otp-rate-limit-options.interface';
import { OTP_RATE_LIMIT_SCOPE, OtpRateLimitScope } from './otp-rate-limit.decorator';
import { OtpRateLimitSubject, OtpRateLimitSubjects } from './otp-rate-limit.subjects';

export const OTP_THROTTLER_OPTIONS = Symbol('OTP_THROTTLER_OPTIONS');
export const OTP_THROTTLER_STORAGE = Symbol('OTP_THROTTLER_STORAGE');

/**
 * Order in which the throttlers count a request. A request refused by one is not
 * counted by the ones after it: per-IP first, then per-recipient, and the global
 * send budget last, so requests refused for one recipient never spend it.
 */
export const OTP_THROTTLER_ORDER: OtpThrottlerName[] = [
  'ip-send', 'ip-verify', 'recipient', 'recipient-daily', 'verify-recipient-ip', 'global-send',
  'operator',
];

const APPLIES_TO: Record<OtpThrottlerName, OtpRateLimitScope[]> = {
  'ip-send': ['issue', 'resend'],
  'ip-verify': ['verify'],
  recipient: ['issue', 'resend'],
  'recipient-daily': ['issue', 'resend'],
  'verify-recipient-ip': ['verify'],
  'global-send': ['issue', 'resend'],
  operator: ['operator'],
};

/** Only per-IP counters are shown in headers: a recipient's counters would tell whether someone else asked codes for it. */
const SHOWS_HEADERS: ReadonlySet<OtpThrottlerName> = new Set(['ip-send', 'ip-verify', 'operator']);

interface HttpRequest {
  ip?: string;
  body?: unknown;
  params?: Record<string, unknown>;
}

/** `@nestjs/throttler` options for the OTP routes, built from the module's resolved options. */
export function otpThrottlerOptions(o: ResolvedOtpOptions): ThrottlerModuleOptions {
  return {
    ipv6SubnetPrefix: o.rateLimits.ipv6SubnetPrefix,
    throttlers: OTP_THROTTLER_ORDER.map((name) => ({
      name,
      limit: o.rateLimits.limits[name].limit,
      ttl: o.rateLimits.limits[name].ttlSeconds * 1000,
    })),
  };
}

/**
 * The throttler of the OTP routes. `getTracker` gives the client IP (IPv6 by
 * network); each named throttler combines it with the recipient found by
 * `OtpRateLimitSubjects`. A limit hit is `OtpThrottledError` (429 with
 * `Retry-After`); a store that cannot answer is `OtpUnavailableError` (503):
 * the module fails closed rather than send or verify without limits.
 */
@Injectable()
export class OtpThrottlerGuard extends ThrottlerGuard {
  private readonly log = new Logger('OtpRateLimit');
  private readonly subjectsByRequest = new WeakMap<object, Promise<OtpRateLimitSubject | undefined>>();

  constructor(
    @Inject(OTP_THROTTLER_OPTIONS) options: ThrottlerModuleOptions,
    @Inject(OTP_THROTTLER_STORAGE) storage: ThrottlerStorage,
    reflector: Reflector,
    @Inject(OTP_RATE_LIMIT_SETTINGS) private readonly rateLimits: OtpRateLimitSettings,
    private readonly subjects: OtpRateLimitSubjects,
    private readonly events: OtpEventBus,
  ) {
    super(options, storage, reflector);
  }

  override async onModuleInit(): Promise<void> {
    await super.onModuleInit();
    // The base class sorts by ttl; the order matters here (see OTP_THROTTLER_ORDER).
    this.throttlers.sort((a, b) => OTP_THROTTLER_ORDER.indexOf(a.name as OtpThrottlerName) - OTP_THROTTLER_ORDER.indexOf(b.name as OtpThrottlerName));
  }

  /** The client IP as the platform resolved it under `trust proxy`; IPv6 grouped by network. */
  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const ip = typeof req.ip === 'string' && req.ip !== '' ? req.ip : 'unknown';
    return normalizeIp(ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip, this.ipv6SubnetPrefix);
  }

  /** One key per throttler and subject, shared by every route the throttler covers (issue and resend share). */
  protected override generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return `${this.rateLimits.keyPrefix}${name}:${createHash('sha256').update(tracker).digest('base64url')}`;
  }

  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const { context, limit, ttl, blockDuration } = props;
    const name = props.throttler.name as OtpThrottlerName;
    const scope = this.reflector.getAllAndOverride<OtpRateLimitScope | undefined>(OTP_RATE_LIMIT_SCOPE, [context.getHandler(), context.getClass()]);
    if (!scope || !APPLIES_TO[name]?.includes(scope)) return true;
    const { req, res } = this.getRequestResponse(context);
    const tracker = await this.trackerFor(name, scope, req as HttpRequest);
    if (tracker === undefined) return true;

    let record: Awaited<ReturnType<ThrottlerStorage['increment']>>;
    try {
      record = await this.storageService.increment(this.generateKey(context, tracker, name), ttl, limit, blockDuration, name);
    } catch (err) {
      this.log.error(`rate-limit store failed (${(err as Error).name}); refusing the request`);
      throw new OtpUnavailableError();
    }
    if (SHOWS_HEADERS.has(name)) {
      this.setResponseHeader(res, 'X-RateLimit-Limit', limit);
      this.setResponseHeader(res, 'X-RateLimit-Remaining', record.isBlocked ? 0 : Math.max(0, limit - record.totalHits));
      this.setResponseHeader(res, 'X-RateLimit-Reset', record.isBlocked ? record.timeToBlockExpire : record.timeToExpire);
    }
    if (record.isBlocked) {
      this.events.emit({ name: 'rate_limit.exceeded', outcome: 'failure', ip: (req as HttpRequest).ip, detail: { throttler: name, scope } });
      throw new OtpThrottledError(record.timeToBlockExpire);
    }
    return true;
  }

  private async trackerFor(name: OtpThrottlerName, scope: OtpRateLimitScope, req: HttpRequest): Promise<string | undefined> {
    const ip = await this.getTracker(req as Record<string, unknown>);
    if (name === 'ip-send' || name === 'ip-verify' || name === 'operator') return `ip|${ip}`;
    const subject = await this.subjectOf(scope, req);
    switch (name) {
      case 'recipient':
        return subject && `r|${subject.recipientIndex}|${subject.purpose}`;
      case 'recipient-daily':
        return subject && `r|${subject.recipientIndex}`;
      case 'global-send':
        return subject && 'global';
      case 'verify-recipient-ip': {
        // An unknown challenge still counts, per id and IP; a malformed one is a 400 of the pipe.
        const id = req.params?.id;
        if (subject) return `r|${subject.recipientIndex}|${ip}`;
        return typeof id === 'string' && /^[0-9a-f-]{36}$/i.test(id) ? `c|${id.toLowerCase()}|${ip}` : undefined;
      }
    }
  }

  private subjectOf(scope: OtpRateLimitScope, req: HttpRequest): Promise<OtpRateLimitSubject | undefined> {
    let found = this.subjectsByRequest.get(req);
    if (!found) {
      found = scope === 'issue' ? Promise.resolve(this.subjects.fromIssueBody(req.body)) : this.subjects.fromChallenge(req.params?.id);
      this.subjectsByRequest.set(req, found);
    }
    return found;
  }
}
