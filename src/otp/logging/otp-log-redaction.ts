import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerOptions } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';
import { untagChallengeIds } from '../crypto/challenge-id';
import { requestIdOf } from '../request-context/audit-context';
import { isoTime } from '../core/iso-time';

/**
 * A whole run of address characters, with the domain after it when an `@` and a domain follow. Each
 * run is read once: a pattern starting with the address's first character is tried at every character
 * of a run, and read a run of n characters n times (16 KB of `a` in a header cost 0.8 s of CPU a line).
 */
const EMAIL_RUN = /[A-Za-z0-9._%+-]+(?:@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}))?/g;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;

const maskRun = (run: string, domain: string | undefined): string => (domain === undefined ? run : `${run[0]}***@${domain}`);

/** `jane.doe@example.com` → `j***@example.com`: enough to correlate by hand, not to mail (R38). */
export function maskEmail(address: string): string {
  return address.includes('@') ? address.replace(EMAIL_RUN, maskRun) : address;
}

/**
 * Masks every address and credential-looking bearer value in free text, and zeroes the recipient
 * tag of every challenge id (`untaggedChallengeId`: a logged id names its challenge, never whose, R30).
 */
export function maskText(text: string): string {
  return untagChallengeIds(maskEmail(text).replace(BEARER, '$1 [redacted]'));
}

/** One round of decoding: each run of `%XX` escapes alone, so an invalid one elsewhere stops nothing. */
function decodeEscapes(text: string): string {
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      // not UTF-8 (a lone or truncated sequence): decode its ASCII bytes one by one, keep the rest escaped
      return run.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => (parseInt(hex, 16) < 0x80 ? String.fromCharCode(parseInt(hex, 16)) : escape));
    }
  });
}

/**
 * A request path with its addresses masked also when they are percent-encoded
 * (`victim%40example.com`, `victim%2540example.com`): each valid `%XX` escape is
 * decoded on its own (an invalid one such as `%ZZ` does not stop the others), as
 * often as that changes the path (at most four rounds), and, if that reveals an
 * address or a challenge id (`%30123…` routes like `0123…`), the path is logged decoded and masked.
 */
export function maskPath(path: string): string {
  let decoded = path;
  for (let i = 0; i < 4 && decoded.includes('%'); i++) {
    const next = decodeEscapes(decoded);
    if (next === decoded) break;
    decoded = next;
  }
  if (decoded === path) return maskText(path);
  return maskEmail(decoded) !== decoded || untagChallengeIds(decoded) !== decoded ? maskText(decoded) : maskText(path);
}

function isPlain(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Marks a line's fields object as built from the module's own serialization (the access line:
 * `otpAccessLog`), every value already masked: the masking hook passes it through instead of
 * masking it a second time. A symbol no caller outside the module holds, so no host line and
 * no input can skip the hook; `JSON` output never shows it.
 */
export const OTP_PREMASKED: unique symbol = Symbol('otp.log.premasked');

function premasked(v: unknown): boolean {
  return typeof v === 'object' && v !== null && (v as { [OTP_PREMASKED]?: boolean })[OTP_PREMASKED] === true;
}

/** Masks strings inside plain objects and arrays (not inside requests, sockets or other class instances). */
export function maskDeep(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return maskText(v);
  if (depth > 5) return v;
  if (Array.isArray(v)) return v.map((x) => maskDeep(x, depth + 1));
  if (!isPlain(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = maskDeep(x, depth + 1);
  return out;
}

/**
 * Field paths removed from every log line, wherever a caller put them: codes,
 * tokens, keys, secrets, SMTP credentials, auth headers and cookies (R37).
 */
export const OTP_LOG_REDACT_PATHS: string[] = [
  ...['code', 'codes', 'otp', 'token', 'proof', 'key', 'keys', 'secret', 'password', 'pass', 'auth', 'authorization', 'cookie', 'privateKey', 'adminToken', 'email', 'to']
    .flatMap((k) => [k, `*.${k}`]),
  'smtp.auth', '*.smtp.auth', 'transport.auth', '*.transport.auth',
  'req.headers.authorization', 'req.headers["x-otp-token"]', 'req.headers.cookie', 'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
];

/** Addresses under a redacted key are masked (still useful by hand); everything else is removed. */
function censorValue(value: unknown, path: string[]): string {
  const key = path[path.length - 1];
  return (key === 'email' || key === 'to') && typeof value === 'string' ? maskEmail(value) : '[redacted]';
}

/** Request headers worth logging; every other header (credentials included) is left out. */
const LOGGED_HEADERS = ['user-agent', 'content-type', 'content-length', 'x-request-id', 'x-forwarded-for', 'host'];

export interface SerializedReq {
  id?: unknown;
  method?: string;
  url?: string;
  headers?: Record<string, unknown>;
  remoteAddress?: string;
}

/** The logged request: path without query string, an allow-list of headers, masked. */
export function serializeRequest(req: SerializedReq): Record<string, unknown> {
  const headers: Record<string, unknown> = {};
  for (const h of LOGGED_HEADERS) if (req.headers?.[h] !== undefined) headers[h] = maskDeep(req.headers[h]);
  return {
    id: req.id,
    method: req.method,
    url: typeof req.url === 'string' ? maskPath(req.url.split('?')[0]) : undefined,
    remoteAddress: req.remoteAddress,
    headers,
  };
}

function serializeError(err: { type?: string; message?: string; stack?: string; [k: string]: unknown }): Record<string, unknown> {
  // pino-http hands over pino-std-serializers' copy (with `type`); a plain pino logger the error itself.
  const type = err?.type ?? (err instanceof Error ? err.constructor.name : undefined);
  return { type, message: maskText(String(err?.message ?? '')), stack: maskText(String(err?.stack ?? '')) };
}

/** Settings of `otpPinoHttpOptions`. */
export interface OtpLoggingOptions {
  /**
   * Minimum level.
   * @default 'info' ('silent' when NODE_ENV is 'test')
   */
  level?: string;
  /**
   * `'pretty'` for human-readable output through `pino-pretty` (a development
   * dependency); anything else is JSON, one object per line.
   * @default 'json'
   */
  format?: string;
}

/**
 * What `otpPinoHttpOptions` returns: pino-http options (for nestjs-pino's
 * `LoggerModule.forRoot({ pinoHttp })` or `pinoHttp(...)`), assignable to pino-http's `Options`.
 * Declared without pino's types, so a host that does not log through pino compiles without them.
 */
export interface OtpPinoHttpOptions {
  level: string;
  customAttributeKeys: { reqId: string };
  quietReqLogger: boolean;
}

/** Where log lines go (pino's `DestinationStream`, e.g. a stream a test reads). */
export interface OtpLogDestination {
  write(line: string): void;
}

/**
 * pino options every logger of the module's shape shares: level, redaction, ISO UTC times,
 * masking hooks, serializers (typed without pino's types, which a host may not have).
 */
export function otpBaseLoggerOptions(o: OtpLoggingOptions = {}): { level: string } {
  const options: LoggerOptions & { level: string } = {
    level: o.level ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
    redact: { paths: OTP_LOG_REDACT_PATHS, censor: censorValue },
    timestamp: () => `,"time":"${isoTime(new Date())}"`,
    formatters: { level: (label) => ({ level: label }) },
    hooks: {
      logMethod(args, method) {
        // The access line is masked where it is built (otpAccessLog): 7 µs a line saved, not masked twice.
        if (args.length === 2 && premasked(args[0]) && typeof args[1] === 'string') return method.apply(this, args);
        const masked = args.map((a) => maskDeep(a));
        // pino takes the message of an error from the error itself when none is given: give a masked one.
        const first = args[0] as { err?: unknown } | Error | undefined;
        const err = first instanceof Error ? first : first && typeof first === 'object' && first.err instanceof Error ? first.err : undefined;
        if (err && typeof masked[1] !== 'string') masked.splice(1, 0, maskText(err.message));
        method.apply(this, masked as Parameters<typeof method>);
      },
    },
    serializers: {
      req: serializeRequest,
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      err: serializeError,
    },
    ...(o.format === 'pretty' ? { transport: { target: 'pino-pretty', options: { singleLine: true } } } : {}),
  };
  return options;
}

/**
 * pino-http options with the module's central redaction: JSON lines in every
 * mode unless `format: 'pretty'`, ISO UTC timestamps, request ids (kept from a
 * well-formed `X-Request-Id` or generated, and echoed back), an allow-list of
 * request headers, and addresses masked in messages and fields.
 */
export function otpPinoHttpOptions(o: OtpLoggingOptions = {}): OtpPinoHttpOptions {
  return {
    ...otpBaseLoggerOptions(o),
    genReqId: (req: IncomingMessage, res: ServerResponse) => {
      const id = requestIdOf(req as unknown as { id?: unknown; headers: Record<string, string | string[] | undefined> });
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customAttributeKeys: { reqId: 'requestId' },
    // Lines logged while serving a request carry its id, not a copy of the whole request.
    quietReqLogger: true,
  } as PinoHttpOptions & OtpPinoHttpOptions;
}

/** The options with a destination stream (tests capture output this way). */
export function otpPinoHttpParams(o: OtpLoggingOptions, destination?: OtpLogDestination): OtpPinoHttpOptions | [OtpPinoHttpOptions, OtpLogDestination] {
  const options = otpPinoHttpOptions(destination ? { ...o, format: 'json' } : o);
  return destination ? [options, destination] : options;
}
