import { ArgumentsHost, BadRequestException, ForbiddenException, HttpException, NotFoundException } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { QueryFailedError } from 'typeorm';
import { OtpExceptionFilter } from './otp-exception.filter';

/** Runs the filter on one exception and returns what it answered (and the lines it logged, into `logged`). */
function answerTo(exception: unknown, logged: string[] = []): { status: number; body: unknown; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  let status = 0;
  let body: unknown;
  const httpAdapter = {
    setHeader: (_res: unknown, name: string, value: string) => (headers[name] = value),
    reply: (_res: unknown, b: unknown, s: number) => ((body = b), (status = s)),
  };
  const host = { switchToHttp: () => ({ getResponse: () => ({}), getRequest: () => ({}) }) } as unknown as ArgumentsHost;
  const filter = new OtpExceptionFilter({ httpAdapter } as unknown as HttpAdapterHost);
  (filter as unknown as { logger: { error(line: string): void } }).logger = { error: (line) => logged.push(line) };
  filter.catch(exception, host);
  return { status, body, headers };
}

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: 'FATAL' });

describe('OtpExceptionFilter: a database that cannot answer is 503 otp_unavailable, never a 500', () => {
  const unavailable = {
    'too many connections (53300)': pgError('53300', 'sorry, too many clients already'),
    'administrator shutdown (57P01)': pgError('57P01', 'terminating connection due to administrator command'),
    'crash shutdown (57P02)': pgError('57P02', 'terminating connection because of crash of another server process'),
    'cannot connect now (57P03)': pgError('57P03', 'the database system is starting up'),
    'database dropped (57P04)': pgError('57P04', 'terminating connection because the database was dropped'),
    'idle session timeout (57P05)': pgError('57P05', 'terminating connection due to idle-session timeout'),
    'connection failure (08006)': pgError('08006', 'connection failure'),
    'refused socket': Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    'reset socket': Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    'pg: connection terminated': new Error('Connection terminated unexpectedly'),
    'pg-pool: connect timeout': new Error('timeout exceeded when trying to connect'),
    'TypeORM wrapping a refused query': new QueryFailedError('SELECT 1', [], pgError('53300', 'sorry, too many clients already')),
  };
  it.each(Object.entries(unavailable))('%s', (_name, exception) => {
    const { status, body, headers } = answerTo(exception);
    expect(status).toBe(503);
    expect(body).toEqual({ error: 'otp_unavailable', message: expect.any(String) });
    expect(headers['Retry-After']).toMatch(/^\d+$/);
    expect(JSON.stringify(body)).not.toMatch(/clients|terminat|ECONN|postgres|5432/i);
  });

  it('keeps a bare 500 for a query the database refused for another reason (a bug, not an outage)', () => {
    expect(answerTo(new QueryFailedError('SELECT x', [], pgError('42703', 'column "x" does not exist')))).toMatchObject({
      status: 500,
      body: { error: 'internal_error', message: 'Internal error.' },
    });
    expect(answerTo(new TypeError('cannot read properties of undefined')).status).toBe(500);
  });
});

describe('OtpExceptionFilter: a value the database cannot take (SQLSTATE class 22) is the client\'s 400, never a 500', () => {
  const dataExceptions = {
    'time zone displacement out of range (22009)': pgError('22009', 'time zone displacement out of range: "+275760-09-13T00:00:00.000Z"'),
    'datetime field overflow (22008)': pgError('22008', 'date/time field value out of range: "-271821-04-20T00:00:00.000Z"'),
    'invalid text representation (22P02)': pgError('22P02', 'invalid input syntax for type uuid: "<script>"'),
  };
  it.each(Object.entries(dataExceptions))('%s: 400 bad_request, and the log names the class and code only, never the echoed value', (_name, driverError) => {
    const logged: string[] = [];
    const { status, body } = answerTo(new QueryFailedError('SELECT $1::timestamptz', [driverError.message], driverError), logged);
    expect(status).toBe(400);
    expect(body).toEqual({ error: 'bad_request', message: 'The request is not valid.' });
    expect(logged).toEqual([`data exception: QueryFailedError ${driverError.code}`]);
    expect(JSON.stringify([body, logged])).not.toMatch(/275760|271821|script|range|syntax/);
  });

  it('another SQLSTATE class stays a 500 (a constraint or a bug is not the client\'s input)', () => {
    expect(answerTo(new QueryFailedError('INSERT', [], pgError('23505', 'duplicate key value violates unique constraint'))).status).toBe(500);
  });
});

describe('OtpExceptionFilter: a 4xx not in the module shape gets a fixed message (theirs may quote the request)', () => {
  it.each([
    ['the router\'s undecodable parameter', new BadRequestException("Failed to decode param '%E0%A4%A'"), 400, { error: 'bad_request', message: 'The request is not valid.' }],
    ['an unknown route', new NotFoundException('Cannot GET /private/jane@example.com'), 404, { error: 'not_found', message: 'Not found.' }],
    ['a host\'s plain exception', new ForbiddenException({ message: 'user jane@example.com may not', statusCode: 403 }), 403, { error: 'forbidden', message: 'Forbidden.' }],
    ['another status', new HttpException('teapot for /x', 418), 418, { error: 'request_error', message: 'The request was refused.' }],
  ])('%s', (_name, exception, status, body) => {
    expect(answerTo(exception)).toMatchObject({ status, body });
  });

  it('keeps validation details and bodies already in the module shape', () => {
    expect(answerTo(new BadRequestException(['email must be an email'])).body).toEqual({ error: 'validation_failed', message: 'The request is not valid.', details: ['email must be an email'] });
    expect(answerTo(new BadRequestException({ error: 'query_not_allowed', message: 'Send parameters in the JSON body.' })).body).toEqual({ error: 'query_not_allowed', message: 'Send parameters in the JSON body.' });
  });
});
