import { ExecutionContext, HttpException, Inject, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { normalizeIp, ThrottlerGuard, ThrottlerModuleOptions, ThrottlerRequest, ThrottlerStorage } from '@nestjs/throttler';
import { recipientTagOf } from '../crypto/challenge-id';
import { OtpEventBus } from '../events/otp-event-bus';
import { OTP_RATE_LIMIT_SETTINGS, OtpRateLimitSettings } from '../core/otp-options.tokens';
import { OtpError, OtpThrottledError, OtpUnavailableError } from '../core/otp.errors';
import { otpErrorToHttp, otpHttpException } from '../core/otp-error.http';
import { OtpThrottlerName, ResolvedOtpRateLimits } from './rate-limit-options';
import { OtpRateLimitScope } from './otp-rate-limit.decorator';
import { OTP_THROTTLER_OPTIONS, OTP_THROTTLER_STORAGE, throttlerKey } from './otp-rate-limit.keys';
import { OtpRateLimitSubjects } from './otp-rate-limit.subjects';
import { APPLIES_TO, GuardCount, GuardThrottlerName, readRouteLimits, resolved, RouteLimits } from './otp-throttler.routes';
import { OTP_SEND_THROTTLERS } from './otp-send-limiter';
import { countInOrder, OtpThrottlerHit, OtpThrottlerRecord } from './otp-throttler-storage';
import { reportStoreFull } from './memory-throttler-storage';

export { OTP_THROTTLER_OPTIONS, OTP_THROTTLER_STORAGE } from './otp-rate-limit.keys';

/**
 * Order in which the throttlers count a request. A request refused by one is not
 * counted by the ones after it: per-IP first (this guard), then, where the code is
 * issued (`OtpSendLimiter`), per-recipient, per-network, and the global send budget
 * last, so requests refused for one recipient or one network never spend it.
 */
export const OTP_THROTTLER_ORDER: OtpThrottlerName[] = ['ip-send', 'ip-verify', 'verify-recipient-ip', ...OTP_SEND_THROTTLERS, 'operator'];

const GUARD_THROTTLERS = Object.keys(APPLIES_TO) as GuardThrottlerName[];

/** Only per-IP counters are shown in headers: a recipient's counters would tell whether someone else asked codes for it. */
const SHOWS_HEADERS: ReadonlySet<OtpThrottlerName> = new Set(['ip-send', 'ip-verify', 'operator']);

interface HttpRequest {
  ip?: string;
  params?: Record<string, unknown>;
}

/** `@nestjs/throttler` options for the OTP routes, built from the module's resolved options. */
export function otpThrottlerOptions(o: { rateLimits: ResolvedOtpRateLimits }): ThrottlerModuleOptions {
  return {
    ipv6SubnetPrefix: o.rateLimits.ipv6SubnetPrefix,
    throttlers: GUARD_THROTTLERS.map((name) => ({
      name,
      limit: o.rateLimits.limits[name].limit,
      ttl: o.rateLimits.limits[name].ttlSeconds * 1000,
    })),
  };
}

/**
 * The throttler of the OTP routes: per client IP (IPv6 by network), and for verify
 * per recipient and IP (the recipient tag a challenge id carries, or for an id minted
 * before tags, its row's recipient: `OtpRateLimitSubjects.tagOf`). The
 * send limits (recipient, network, global) are counted where the code is issued,
 * by `OtpSendLimiter`, so host routes calling `OtpService` meet them too. A limit
 * hit is `OtpThrottledError` (429 with `Retry-After`); a store that cannot answer
 * is `OtpUnavailableError` (503): the module fails closed rather than send or
 * verify without limits. Both are thrown as Nest HTTP exceptions with their headers
 * already set, so a host route answers them right under any exception filter.
 *
 * A request reads its route's scope once (cached per controller method), counts only the
 * throttlers of that scope, and counts them in one storage call (`countInOrder`). `@SkipThrottle`
 * and `@Throttle` (limit, ttl, block duration) per throttler name are honoured, as by the base
 * class; a subclass that overrides `handleRequest` gets the base class's loop, one call per throttler.
 */
@Injectable()
export class OtpThrottlerGuard extends ThrottlerGuard {
  private readonly log = new Logger('OtpRateLimit');
  private readonly routes = new WeakMap<object, WeakMap<object, RouteLimits>>();

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

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.handleRequest !== OtpThrottlerGuard.prototype.handleRequest) return super.canActivate(context);
    const route = this.routeLimits(context);
    if (!route.scope || route.throttlers.length === 0 || await this.shouldSkip(context)) return true;
    const counts: GuardCount[] = [];
    for (const t of route.throttlers) {
      if ((t.throttler.skipIf ?? this.commonOptions.skipIf)?.(context)) continue;
      const ttl = await resolved(context, t.ttl ?? t.throttler.ttl, 'ttl', t.name);
      counts.push({
        name: t.name, ttl,
        limit: await resolved(context, t.limit ?? t.throttler.limit, 'limit', t.name),
        blockDuration: await resolved(context, t.blockDuration ?? t.throttler.blockDuration ?? ttl, 'blockDuration', t.name),
      });
    }
    return this.count(context, route.scope, counts);
  }

  /** The client IP as the platform resolved it under `trust proxy`; IPv6 grouped by network. */
  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const ip = typeof req.ip === 'string' && req.ip !== '' ? req.ip : 'unknown';
    return normalizeIp(ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip, this.ipv6SubnetPrefix);
  }

  /** One key per throttler and subject, shared by every route the throttler covers (issue and resend share). */
  protected override generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return throttlerKey(this.rateLimits.keyPrefix, name, tracker);
  }

  /** One throttler (the base class's loop calls it when a subclass overrides it). */
  protected override async handleRequest(props: ThrottlerRequest): Promise<boolean> {
    const { context, limit, ttl, blockDuration } = props;
    const name = props.throttler.name as GuardThrottlerName;
    const scope = this.routeLimits(context).scope;
    if (!scope || !APPLIES_TO[name]?.includes(scope)) return true;
    return this.count(context, scope, [{ name, limit, ttl, blockDuration }]);
  }

  /**
   * Counts `counts` in order; sets the per-IP headers; throws for the first refusal. A verify of a
   * UUIDv8 challenge carries its recipient's tag: every throttler in one storage call, per-IP
   * first. A verify of an older (v4) id needs its row for `verify-recipient-ip`: the per-IP
   * throttlers go first, in one call, and only a request they let through reads the challenge and
   * counts it (a second call). Either way a client over its per-IP limit costs no database read.
   */
  private async count(context: ExecutionContext, scope: OtpRateLimitScope, counts: GuardCount[]): Promise<boolean> {
    const bySubject = counts.filter((c) => c.name === 'verify-recipient-ip');
    const { req } = this.getRequestResponse(context);
    if (bySubject.length === 0 || recipientTagOf((req as HttpRequest).params?.id) !== undefined) {
      if (counts.length) await this.countGroup(context, scope, counts);
      return true;
    }
    const ipOnly = counts.filter((c) => c.name !== 'verify-recipient-ip');
    if (ipOnly.length) await this.countGroup(context, scope, ipOnly);
    await this.countGroup(context, scope, bySubject);
    return true;
  }

  /** One storage call for `counts`, in order (`countInOrder` stops at the first refusal). */
  private async countGroup(context: ExecutionContext, scope: OtpRateLimitScope, counts: GuardCount[]): Promise<void> {
    const { req, res } = this.getRequestResponse(context);
    const hits: OtpThrottlerHit[] = [];
    const counted: GuardCount[] = [];
    let records: OtpThrottlerRecord[];
    try {
      const ip = await this.getTracker(req);
      for (const c of counts) {
        const tracker = await this.trackerFor(c.name, ip, req as HttpRequest);
        if (tracker === undefined) continue;
        counted.push(c);
        hits.push({ key: this.generateKey(context, tracker, c.name), ttl: c.ttl, limit: c.limit, blockDuration: c.blockDuration, throttlerName: c.name });
      }
      records = hits.length ? await countInOrder(this.storageService, hits) : [];
    } catch (err) {
      if (err instanceof OtpError) throw this.refusal(res, err); // the schema is not ready: 503
      reportStoreFull(this.events, err, (req as HttpRequest).ip, scope);
      this.log.error(`rate-limit check failed (${(err as Error)?.name ?? 'unknown error'}); refusing the request`);
      throw this.refusal(res, new OtpUnavailableError());
    }
    records.forEach((record, i) => {
      const { name, limit } = counted[i];
      if (SHOWS_HEADERS.has(name)) {
        this.setResponseHeader(res, 'X-RateLimit-Limit', limit);
        this.setResponseHeader(res, 'X-RateLimit-Remaining', record.isBlocked ? 0 : Math.max(0, limit - record.totalHits));
        this.setResponseHeader(res, 'X-RateLimit-Reset', record.isBlocked ? record.timeToBlockExpire : record.timeToExpire);
      }
      if (record.isBlocked) {
        this.events.emit({ name: 'rate_limit.exceeded', outcome: 'failure', ip: (req as HttpRequest).ip, detail: { throttler: name, scope } });
        throw this.refusal(res, new OtpThrottledError(record.timeToBlockExpire));
      }
    });
  }

  /** The route's scope and throttlers, read from its metadata on its first request. */
  private routeLimits(context: ExecutionContext): RouteLimits {
    const handler = context.getHandler();
    const classRef = context.getClass();
    let byClass = this.routes.get(handler);
    if (!byClass) this.routes.set(handler, (byClass = new WeakMap()));
    let route = byClass.get(classRef);
    if (!route) byClass.set(classRef, (route = readRouteLimits(this.reflector, this.throttlers, handler, classRef)));
    return route;
  }

  /**
   * What the guard throws for `err`: the Nest exception of its status and body, with its headers
   * (`Retry-After`) set here, as the base class does, for a host app without `OtpExceptionFilter`.
   */
  private refusal(res: Record<string, unknown>, err: OtpError): HttpException {
    for (const [header, value] of Object.entries(otpErrorToHttp(err).headers)) this.setResponseHeader(res, header, value);
    return otpHttpException(err);
  }

  private async trackerFor(name: GuardThrottlerName, ip: string, req: HttpRequest): Promise<string | undefined> {
    if (name === 'ip-send' || name === 'ip-verify' || name === 'operator') return `ip|${ip}`;
    // verify-recipient-ip: the recipient's tag, from the id (v8) or its row (v4). An unknown v4 id
    // still counts, per id and IP; a malformed one is a 400 of the pipe.
    const id = req.params?.id;
    const tag = await this.subjects.tagOf(id);
    if (tag !== undefined) return `t|${tag}|${ip}`;
    return typeof id === 'string' && /^[0-9a-f-]{36}$/i.test(id) ? `c|${id.toLowerCase()}|${ip}` : undefined;
  }
}
