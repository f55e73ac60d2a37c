import { ArgumentsHost, BadRequestException, CallHandler, ExecutionContext, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { lastValueFrom, throwError } from 'rxjs';
import { QueryFailedError } from 'typeorm';
import { OtpEvent } from '../events/otp-event';
import { OtpEventBus } from '../events/otp-event-bus';
import { OtpExceptionFilter } from '../http-kit/otp-exception.filter';
import {
  OtpConfigError,
  OtpContextInvalidError,
  OtpEmailInvalidError,
  OtpError,
  OtpInvalidError,
  OtpPurposeUnknownError,
  OtpRequiredError,
  OtpThrottledError,
  OtpUnavailableError,
} from '../core/otp.errors';
import { otpHttpException } from '../core/otp-error.http';
import { OtpAuditInterceptor } from './audit.interceptor';
import { Audited } from './audited.decorator';

class AuditedController {
  @Audited('otp.verify')
  handle() {}
}

function httpContext(): ExecutionContext {
  const req = { headers: { 'user-agent': 'spec' }, ip: '203.0.113.9' };
  return {
    getType: () => 'http',
    getHandler: () => AuditedController.prototype.handle,
    getClass: () => AuditedController,
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => ({}) }),
  } as unknown as ExecutionContext;
}

/** The audit event the interceptor records when the handler throws `err`. */
async function recorded(err: unknown): Promise<OtpEvent> {
  const bus = new OtpEventBus();
  const events: OtpEvent[] = [];
  bus.subscribe((e) => void events.push(e));
  const next: CallHandler = { handle: () => throwError(() => err) };
  await expect(lastValueFrom(new OtpAuditInterceptor(bus).intercept(httpContext(), next))).rejects.toBe(err);
  expect(events).toHaveLength(1);
  return events[0];
}

/** The status `OtpExceptionFilter` answers the client for `err`. */
function answered(err: unknown): number {
  let status = 0;
  const adapter = { setHeader: () => undefined, reply: (_res: unknown, _body: unknown, s: number) => (status = s) };
  const host = { switchToHttp: () => ({ getResponse: () => ({}) }) } as unknown as ArgumentsHost;
  new OtpExceptionFilter({ httpAdapter: adapter } as unknown as HttpAdapterHost).catch(err, host);
  return status;
}

describe('OtpAuditInterceptor', () => {
  beforeAll(() => jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined));
  afterAll(() => jest.restoreAllMocks());

  it('records the status the client got: 401 for otp.required, 503 for otp.unavailable, 500 for otp.config_invalid', async () => {
    expect((await recorded(new OtpRequiredError())).detail).toEqual({ status: 401, error: 'otp.required' });
    expect((await recorded(new OtpUnavailableError())).detail).toEqual({ status: 503, error: 'otp.unavailable' });
    expect((await recorded(new OtpConfigError('no key'))).detail).toEqual({ status: 500, error: 'otp.config_invalid' });
  });

  it.each<[string, OtpError]>([
    ['otp.invalid', new OtpInvalidError()],
    ['otp.throttled', new OtpThrottledError(30)],
    ['otp.purpose_unknown', new OtpPurposeUnknownError()],
    ['otp.context_invalid', new OtpContextInvalidError('amount missing')],
    ['otp.email_invalid', new OtpEmailInvalidError()],
    ['otp.config_invalid', new OtpConfigError('no key')],
    ['otp.required', new OtpRequiredError()],
    ['otp.unavailable', new OtpUnavailableError()],
  ])('an audited %s failure records the same status the exception filter answers', async (code, err) => {
    const event = await recorded(err);
    expect(event).toMatchObject({ name: 'otp.verify', outcome: 'failure', detail: { status: answered(err), error: code } });
  });

  it('records an OTP error wrapped for HTTP (as @OtpProof throws it) under its own code', async () => {
    expect((await recorded(otpHttpException(new OtpRequiredError()))).detail).toEqual({ status: 401, error: 'otp.required' });
  });

  const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });
  it.each<[string, unknown, string]>([
    ['a value the database cannot take (22P02, TypeORM-wrapped)', new QueryFailedError('SELECT $1::uuid', ['x'], pgError('22P02', 'invalid input syntax for type uuid')), 'data_exception'],
    ['a date out of range (22008)', new QueryFailedError('SELECT $1::timestamptz', ['x'], pgError('22008', 'date/time field value out of range')), 'data_exception'],
    ['too many connections (53300)', new QueryFailedError('SELECT 1', [], pgError('53300', 'sorry, too many clients already')), 'otp.unavailable'],
    ['a refused socket', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), 'otp.unavailable'],
    ['a lost connection', new Error('Connection terminated unexpectedly'), 'otp.unavailable'],
    ['a body the parser refused (400)', Object.assign(new Error('Unexpected token'), { status: 400 }), 'http'],
    ['a body too large (413)', Object.assign(new Error('too large'), { statusCode: 413 }), 'http'],
    ['an HTTP exception', new BadRequestException({ error: 'validation_failed', message: 'x' }), 'http'],
    ['a bug', new TypeError('boom'), 'internal'],
  ])('R39: an audited failure from %s records the outcome the exception filter answers', async (_name, err, error) => {
    const event = await recorded(err);
    expect(event.detail).toEqual({ status: answered(err), error });
  });

  it('records an HTTP exception as http with its status, and anything else as internal 500', async () => {
    expect((await recorded(new BadRequestException({ error: 'validation_failed', message: 'x' }))).detail).toEqual({ status: 400, error: 'http' });
    expect((await recorded(new TypeError('boom'))).detail).toEqual({ status: 500, error: 'internal' });
  });
});
