import { CanActivate, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import { SessionRequiredError } from '../common/app-errors';
import { AccountsService, CurrentAccount } from './accounts.service';

/** Where `SessionGuard` leaves the signed-in account on the request. */
export const ACCOUNT_REQUEST_KEY = '__account';

interface SessionRequest {
  headers?: Record<string, string | string[] | undefined>;
  [ACCOUNT_REQUEST_KEY]?: CurrentAccount;
}

/**
 * Requires `Authorization: Bearer <sessionToken>` of a live session and puts the
 * account on the request. Reads only headers, so it runs on Express and Fastify.
 */
@Injectable()
export class SessionGuard implements CanActivate {
  constructor(private readonly accounts: AccountsService) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<SessionRequest>();
    const header = req.headers?.authorization;
    const match = typeof header === 'string' ? /^Bearer +(\S+)$/i.exec(header.trim()) : null;
    const account = match ? await this.accounts.authenticate(match[1]) : null;
    if (!account) throw new SessionRequiredError();
    req[ACCOUNT_REQUEST_KEY] = account;
    return true;
  }
}

/** The host's answer to the OTP module's `currentUserEmail` option: the signed-in account's address. */
export function currentAccountEmail(req: SessionRequest | undefined): string | undefined {
  return req?.[ACCOUNT_REQUEST_KEY]?.email;
}

/** Injects the account `SessionGuard` signed in. */
export const Account = createParamDecorator((_data: unknown, ctx: ExecutionContext): CurrentAccount => {
  const account = ctx.switchToHttp().getRequest<SessionRequest>()?.[ACCOUNT_REQUEST_KEY];
  if (!account) throw new SessionRequiredError();
  return account;
});
