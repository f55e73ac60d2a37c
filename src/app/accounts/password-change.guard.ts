import { createHash } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { normalizeIp, ThrottlerStorage } from '@nestjs/throttler';
import { OTP_THROTTLER_STORAGE, OtpThrottledError, OtpUnavailableError } from 'nestjs-email-otp';
import { SessionRequiredError } from '../common/app-errors';
import { ACCOUNTS_SETTINGS, AccountsRateLimit, AccountsSettings } from './accounts.settings';
import { AccountsService, CurrentAccount } from './accounts.service';
import { ACCOUNT_REQUEST_KEY } from './session.guard';

type Throttler = 'password-ip' | 'password-account';

interface ThrottledRequest {
  ip?: string;
  [ACCOUNT_REQUEST_KEY]?: CurrentAccount;
}

/**
 * Limits `POST /accounts/password` per client IP, then per account (every session of
 * it), before any scrypt work: a stolen session cannot guess `currentPassword` without
 * bound. Counters live in the OTP module's throttler store (Redis when `REDIS_URL` is
 * set, shared by every instance); a store that cannot answer refuses the request (503).
 * Every attempt counts, right or wrong, so that a refusal says nothing about the guess.
 * Runs after `SessionGuard`.
 */
@Injectable()
export class PasswordChangeThrottleGuard implements CanActivate {
  private readonly log = new Logger('Accounts');

  constructor(
    @Inject(OTP_THROTTLER_STORAGE) private readonly storage: ThrottlerStorage,
    @Inject(ACCOUNTS_SETTINGS) private readonly settings: AccountsSettings,
    private readonly accounts: AccountsService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<ThrottledRequest>();
    const account = req[ACCOUNT_REQUEST_KEY];
    if (!account) throw new SessionRequiredError();
    const { ip, account: perAccount } = this.settings.passwordChange;
    await this.count(account, 'password-ip', `ip|${this.network(req.ip)}`, ip);
    await this.count(account, 'password-account', `a|${account.id}`, perAccount);
    return true;
  }

  private async count(account: CurrentAccount, name: Throttler, tracker: string, rule: AccountsRateLimit): Promise<void> {
    const key = `${this.settings.passwordChange.keyPrefix}${name}:${createHash('sha256').update(tracker).digest('base64url')}`;
    const ttl = rule.ttlSeconds * 1000;
    let record: Awaited<ReturnType<ThrottlerStorage['increment']>>;
    try {
      record = await this.storage.increment(key, ttl, rule.limit, ttl, name);
    } catch (err) {
      this.log.error(`rate-limit store failed (${(err as Error).name}); refusing the password change`);
      throw new OtpUnavailableError();
    }
    if (record.isBlocked) {
      this.accounts.passwordChangeFailed(account, { reason: 'throttled', throttler: name });
      throw new OtpThrottledError(record.timeToBlockExpire);
    }
  }

  /** The client IP as `TRUST_PROXY` resolved it; IPv6 grouped by network, as the OTP limits do. */
  private network(ip: string | undefined): string {
    const raw = typeof ip === 'string' && ip !== '' ? ip : 'unknown';
    return normalizeIp(raw.startsWith('::ffff:') && raw.includes('.') ? raw.slice(7) : raw, this.settings.passwordChange.ipv6SubnetPrefix);
  }
}
