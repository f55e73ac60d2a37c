import { ExecutionContext, HttpException, Logger, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { ArgumentsHost } from '@nestjs/common';
import { OtpExceptionFilter } from '../http-kit/otp-exception.filter';
import { contextHash } from '../crypto/canonical';
import { OtpRequiredError } from '../core/otp.errors';
import { OtpGuard } from './otp.guard';
import type { OtpTokenService } from './otp-token.service';
import type { OtpTokenExpectation } from './otp-token.types';
import { OTP_PROOF_REQUEST_KEY, RequireOtp, RequireOtpOptions } from './require-otp.decorator';

/** A fake token service: records what the guard asked, answers as told. */
function fakeTokens(opts: { headerName?: string; currentUserEmail?: (req: unknown) => unknown; fail?: Error } = {}) {
  const calls: { token: unknown; expect: OtpTokenExpectation }[] = [];
  const service = {
    headerName: opts.headerName ?? 'x-otp-token',
    currentUserEmail: opts.currentUserEmail,
    async redeem(token: unknown, expect: OtpTokenExpectation) {
      calls.push({ token, expect });
      if (opts.fail) throw opts.fail;
      return { challengeId: 'c', purpose: expect.purpose, contextHash: expect.contextHash, recipientIndex: 'r', verifiedAt: new Date(), amr: ['otp_email'], redeemedAt: new Date() };
    },
  };
  return { service: service as unknown as OtpTokenService, calls };
}

function contextFor(purpose: string | null, options: RequireOtpOptions, req: Record<string, unknown>): ExecutionContext {
  class Ctl { handle() {} }
  if (purpose) RequireOtp(purpose, options)(Ctl.prototype, 'handle', Object.getOwnPropertyDescriptor(Ctl.prototype, 'handle')!);
  return {
    getHandler: () => Ctl.prototype.handle,
    getClass: () => Ctl,
    switchToHttp: () => ({ getRequest: () => req }),
  } as unknown as ExecutionContext;
}

async function outcome(p: Promise<unknown>): Promise<{ status: number; body: unknown } | 'passed'> {
  try {
    await p;
    return 'passed';
  } catch (err) {
    if (!(err instanceof HttpException)) throw err;
    return { status: err.getStatus(), body: err.getResponse() };
  }
}

const TOKEN = `otp_${'a'.repeat(43)}`;

describe('OtpGuard', () => {
  const reflector = new Reflector();

  it('lets routes without @RequireOtp through untouched', async () => {
    const { service, calls } = fakeTokens();
    await expect(new OtpGuard(reflector, service).canActivate(contextFor(null, {}, { headers: {} }))).resolves.toBe(true);
    expect(calls).toHaveLength(0);
  });

  it('answers 401 otp_required without a token, before redeeming anything', async () => {
    const { service, calls } = fakeTokens();
    const res = await outcome(new OtpGuard(reflector, service).canActivate(contextFor('login', {}, { headers: {} })));
    expect(res).toEqual({ status: 401, body: { error: 'otp_required', message: expect.any(String) } });
    expect(calls).toHaveLength(0);
  });

  it('reads the configured header, passes purpose and canonical context hash, and leaves the proof on the request', async () => {
    const { service, calls } = fakeTokens({ headerName: 'x-approval' });
    const req: Record<string, unknown> = { headers: { 'x-approval': TOKEN }, body: { to: 'alice', amount: 5 }, ip: '127.0.0.1' };
    const ctx = contextFor('transfer', { context: (r) => ({ amount: r.body.amount, to: r.body.to }) }, req);
    await expect(new OtpGuard(reflector, service).canActivate(ctx)).resolves.toBe(true);
    expect(calls[0]).toMatchObject({ token: TOKEN, expect: { purpose: 'transfer', contextHash: contextHash({ to: 'alice', amount: 5 }), ip: '127.0.0.1' } });
    expect(req[OTP_PROOF_REQUEST_KEY]).toMatchObject({ purpose: 'transfer', amr: ['otp_email'] });
  });

  /** The guard refuses the route's context with 400 otp_context_invalid, and spends no token. */
  const expectContextRefused = async (context: RequireOtpOptions['context']) => {
    const { service, calls } = fakeTokens();
    const ctx = contextFor('transfer', { context }, { headers: { 'x-otp-token': TOKEN }, body: {} });
    const res = await outcome(new OtpGuard(reflector, service).canActivate(ctx));
    expect(res).toMatchObject({ status: 400, body: { error: 'otp_context_invalid' } });
    expect(calls).toHaveLength(0);
  };

  it.each([
    ['throws', () => { throw new TypeError('boom'); }],
    ['returns undefined values', () => ({ amount: undefined })],
    ['returns a nested object', () => ({ amount: { $gt: 0 } })],
    ['returns nothing', () => undefined],
  ])('a context function that %s gives 400 otp_context_invalid, not 500, and the token is not spent', async (_name, fn) => {
    await expectContextRefused(fn as unknown as RequireOtpOptions['context']);
  });

  it('refuses a context text with a control character, as the challenge body does (one rule: isOtpContext)', async () => {
    await expectContextRefused(() => ({ to: 'line\r\nbreak' }));
  });

  it('binds to the current user when the module knows how to find one, and refuses when it finds none', async () => {
    const signedIn = fakeTokens({ currentUserEmail: (req) => (req as { user?: { email: string } }).user?.email });
    await new OtpGuard(reflector, signedIn.service).canActivate(contextFor('login', {}, { headers: { 'x-otp-token': TOKEN }, user: { email: 'a@example.com' } }));
    expect(signedIn.calls[0].expect.recipientEmail).toBe('a@example.com');
    // No user on the request (e.g. the OTP guard ran before authentication): refused, not unbound.
    const res = await outcome(new OtpGuard(reflector, signedIn.service).canActivate(contextFor('login', {}, { headers: { 'x-otp-token': TOKEN } })));
    expect(res).toMatchObject({ status: 401, body: { error: 'otp_required' } });
    expect(signedIn.calls).toHaveLength(1);
  });

  it('a route recipient overrides the current user; false unbinds; a throwing one is 401', async () => {
    const t = fakeTokens({ currentUserEmail: () => 'session@example.com' });
    const guard = new OtpGuard(reflector, t.service);
    await guard.canActivate(contextFor('login', { recipient: (r) => r.body.email }, { headers: { 'x-otp-token': TOKEN }, body: { email: 'b@example.com' } }));
    await guard.canActivate(contextFor('login', { recipient: false }, { headers: { 'x-otp-token': TOKEN } }));
    expect(t.calls.map((c) => c.expect.recipientEmail)).toEqual(['b@example.com', undefined]);
    const res = await outcome(guard.canActivate(contextFor('login', { recipient: () => { throw new Error('x'); } }, { headers: { 'x-otp-token': TOKEN } })));
    expect(res).toMatchObject({ status: 401 });
  });

  it('maps a refused token to 401 and a failing store to 503, never 500', async () => {
    const refused = fakeTokens({ fail: new OtpRequiredError() });
    await expect(new OtpGuard(reflector, refused.service).canActivate(contextFor('login', {}, { headers: { 'x-otp-token': TOKEN } })))
      .rejects.toBeInstanceOf(UnauthorizedException);
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const down = fakeTokens({ fail: new Error('connection terminated') });
    await expect(new OtpGuard(reflector, down.service).canActivate(contextFor('login', {}, { headers: { 'x-otp-token': TOKEN } })))
      .rejects.toBeInstanceOf(ServiceUnavailableException);
    expect(logged).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(logged.mock.calls)).not.toContain(TOKEN);
    logged.mockRestore();
  });

  it('a failing store reaches the client as 503 otp_unavailable with Retry-After through OtpExceptionFilter, not internal_error', async () => {
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const down = fakeTokens({ fail: new Error('connection terminated') });
    const thrown = await new OtpGuard(reflector, down.service).canActivate(contextFor('login', {}, { headers: { 'x-otp-token': TOKEN } })).catch((e: unknown) => e);
    const headers: Record<string, string> = {};
    let answer: { status: number; body: unknown } | undefined;
    const httpAdapter = {
      setHeader: (_res: unknown, name: string, value: string) => (headers[name] = value),
      reply: (_res: unknown, body: unknown, status: number) => (answer = { status, body }),
    };
    const host = { switchToHttp: () => ({ getResponse: () => ({}) }) } as unknown as ArgumentsHost;
    new OtpExceptionFilter({ httpAdapter } as unknown as HttpAdapterHost).catch(thrown, host);
    jest.restoreAllMocks();
    expect(answer).toEqual({ status: 503, body: { error: 'otp_unavailable', message: 'The service is temporarily unavailable. Try again shortly.' } });
    expect(headers).toEqual({ 'Cache-Control': 'no-store', 'Content-Type': 'application/json; charset=utf-8', 'Retry-After': '5' });
  });

  it('class-level metadata applies, and a method-level @RequireOtp overrides it', async () => {
    const t = fakeTokens();
    @RequireOtp('login')
    class Ctl {
      plain() {}
      @RequireOtp('transfer', { recipient: false })
      special() {}
    }
    const ctx = (name: 'plain' | 'special') => ({
      getHandler: () => Ctl.prototype[name], getClass: () => Ctl,
      switchToHttp: () => ({ getRequest: () => ({ headers: { 'x-otp-token': TOKEN } }) }),
    }) as unknown as ExecutionContext;
    await new OtpGuard(reflector, t.service).canActivate(ctx('plain'));
    await new OtpGuard(reflector, t.service).canActivate(ctx('special'));
    expect(t.calls.map((c) => c.expect.purpose)).toEqual(['login', 'transfer']);
  });
});
