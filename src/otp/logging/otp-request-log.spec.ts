import { EventEmitter } from 'node:events';
import pino from 'pino';
import { runWithAuditContext } from '../request-context/audit-context';
import { OTP_LOG_REDACT_PATHS } from './otp-log-redaction';
import { otpAccessLog, otpLoggerOptions } from './otp-request-log';

/** A pino logger with the module's options, writing into `lines`. */
function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino(otpLoggerOptions({ level: 'info' }) as pino.LoggerOptions, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

function exchange(status: number) {
  const req = {
    method: 'POST',
    url: '/auth/otp/challenges/jane.doe%40example.com/verify?code=123456&token=tok-secret',
    headers: {
      authorization: 'Bearer bearer-secret', cookie: 'sid=cookie-secret', 'x-otp-token': 'otp-secret', 'proxy-authorization': 'Basic proxy-secret',
      'user-agent': 'curl for john.smith@example.org', 'x-forwarded-for': '203.0.113.9', host: '127.0.0.1', 'x-request-id': 'rid-1',
    },
    socket: { remoteAddress: '127.0.0.1' },
  };
  const res = Object.assign(new EventEmitter(), { statusCode: status, getHeader: () => 'sid=set-cookie-secret' });
  return { req, res };
}

/** A line without what differs between two writes of it: times, and the stack of the 5xx line's error (the caller's line numbers). */
const withoutTime = ({ time: _time, responseTime: _rt, err, ...rest }: Record<string, unknown>) => ({ ...rest, err: err && { ...(err as object), stack: undefined } });

describe('otpAccessLog: the access line, built once at the end of the request', () => {
  it('R37/R38: the line written without the redaction paths is the line the redacting logger writes, and holds no secret or address', () => {
    expect(OTP_LOG_REDACT_PATHS.length).toBeGreaterThan(30);
    for (const status of [201, 404, 500]) {
      const plain = capture();
      const redacting = capture();
      const a = exchange(status);
      const b = exchange(status);
      otpAccessLog(plain.logger)(a.req, a.res, 'rid-1');
      // Without `child`, otpAccessLog writes through the logger itself, every redaction path applied.
      otpAccessLog({ info: (fields, message) => redacting.logger.info(fields, message) })(b.req, b.res, 'rid-1');
      a.res.emit('close');
      b.res.emit('close');
      expect(plain.lines).toHaveLength(1);
      expect(withoutTime(plain.lines[0])).toEqual(withoutTime(redacting.lines[0]));
      const text = JSON.stringify(plain.lines[0]);
      for (const secret of ['bearer-secret', 'cookie-secret', 'otp-secret', 'proxy-secret', '123456', 'tok-secret', 'jane.doe', 'john.smith']) expect(text).not.toContain(secret);
      expect(plain.lines[0]).toMatchObject({ level: 'info', requestId: 'rid-1', res: { statusCode: status }, msg: status >= 500 ? 'request errored' : 'request completed' });
      expect(plain.lines[0].req).toEqual({
        id: 'rid-1', method: 'POST', url: '/auth/otp/challenges/j***@example.com/verify', remoteAddress: '127.0.0.1',
        headers: { 'user-agent': 'curl for j***@example.org', 'x-forwarded-for': '203.0.113.9', host: '127.0.0.1', 'x-request-id': 'rid-1' },
      });
      expect(typeof plain.lines[0].responseTime).toBe('number');
      if (status >= 500) expect(plain.lines[0].err).toMatchObject({ type: 'Error', message: 'failed with status code 500' });
    }
  });

  it('R37/R38: a host logger without the module options (plain pino) gets the same safe line, and an aborted request says so', () => {
    const lines: Record<string, unknown>[] = [];
    const plainPino = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const { req, res } = exchange(200);
    otpAccessLog(plainPino)(req, Object.assign(res, { writableFinished: false }), 'rid-3');
    res.emit('close');
    const text = JSON.stringify(lines);
    for (const secret of ['bearer-secret', 'cookie-secret', 'otp-secret', 'proxy-secret', '123456', 'tok-secret', 'jane.doe', 'john.smith']) expect(text).not.toContain(secret);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'request aborted', requestId: 'rid-3', res: { statusCode: 200 }, req: { url: '/auth/otp/challenges/j***@example.com/verify' } });
    expect(Object.keys(lines[0].res as object)).toEqual(['statusCode']);
  });

  it('R37/R38: only the access line skips the masking hook: a host line that copies its shape, or names the marker as a string, is still masked', () => {
    const { logger, lines } = capture();
    const { req, res } = exchange(200);
    otpAccessLog(logger)(req, res, 'rid-4');
    res.emit('close');
    const accessLine = lines.pop()!;
    // The access line's own fields, re-logged by a host (JSON round trip: no symbol survives), plus an address.
    const copy = { ...JSON.parse(JSON.stringify(accessLine)), note: 'for jane.doe@example.com', 'otp.log.premasked': true };
    logger.info(copy, 'relogged by the host');
    logger.info({ [Symbol('otp.log.premasked')]: true, note: 'for john.smith@example.org' }, 'a look-alike symbol');
    expect(lines.map((l) => l.note)).toEqual(['for j***@example.com', 'for j***@example.org']);
    expect(JSON.stringify(accessLine)).not.toContain('premasked');
  });

  it('writes the line once, when the response closes, not before', () => {
    const { logger, lines } = capture();
    const { req, res } = exchange(200);
    otpAccessLog(logger)(req, res, 'rid-2');
    expect(lines).toHaveLength(0);
    res.emit('close');
    res.emit('close');
    expect(lines).toHaveLength(1);
  });
});

describe('otpLoggerOptions: one logger for every request', () => {
  it('R39: a line logged inside the request context carries its requestId, one outside carries none', async () => {
    const { logger, lines } = capture();
    await runWithAuditContext({ requestId: 'rid-ctx' }, async () => {
      await Promise.resolve();
      logger.info('inside');
      logger.info({ requestId: 'given' }, 'a caller that names one keeps it');
    });
    logger.info('outside');
    expect(lines.map((l) => [l.msg, l.requestId])).toEqual([['inside', 'rid-ctx'], ['a caller that names one keeps it', 'given'], ['outside', undefined]]);
  });

  it('R37: redacts and masks as otpPinoHttpOptions does', () => {
    const { logger, lines } = capture();
    logger.info({ code: '123456', token: 't', smtp: { auth: { pass: 'p' } }, email: 'jane.doe@example.com', nested: { key: 'k' } }, 'to john.smith@example.org');
    expect(lines[0]).toMatchObject({ code: '[redacted]', token: '[redacted]', smtp: { auth: '[redacted]' }, email: 'j***@example.com', nested: { key: '[redacted]' }, msg: 'to j***@example.org' });
  });
});
