import { AppRoute } from './app-routes';
import { RawRequest } from './raw-http';
import { SeededRandom } from './seeded-random';

/** Values that no field of this API accepts: wrong types, injection attempts, odd unicode. */
const WRONG_TYPES: unknown[] = [123, -1, 1e308, true, false, null, [], {}, ['x'], { $ne: null }, { $gt: '' }, [[[]]]];
/** Optional fields treat `null` as absent (class-validator's IsOptional): that is not malformed. */
const WRONG_TYPES_OPTIONAL = WRONG_TYPES.filter((v) => v !== null);

export const HOSTILE_EMAILS: unknown[] = [
  ...WRONG_TYPES, '', ' ', 'a', 'a@', '@example.com', 'a@b', 'a@@example.com', 'a@example.com.',
  'a@example.com\r\nBcc: victim@example.com', 'a@example.com\nSubject: pwned', 'a@example.com\rX-Injected: 1',
  'a\r\n@example.com', 'Bcc: x@example.com\r\n\r\nbody', 'a@example.com%0d%0abcc:x@example.com', 'a@example.com\u0000',
  'a\u0000b@example.com', 'a@exam\u0000ple.com', 'a@example.com\u0085Bcc: x@example.com', 'a\u0085@example.com',
  "' OR '1'='1", "a@example.com'; DROP TABLE otp_challenges;--", 'a@example.com" OR 1=1 --', '"; SELECT pg_sleep(5); --',
  'x'.repeat(255) + '@example.com', 'a@' + 'x'.repeat(250) + '.com', 'ａ＠ｅｘａｍｐｌｅ．ｃｏｍ', 'a@example.com ',
  ' a b @example.com', '<a@example.com>', 'Name <a@example.com>', 'a@[127.0.0.1]', 'a@127.0.0.1', 'a@localhost',
  '😀@example.com', 'a@example.com,b@example.com', 'a@example.com;b@example.com', '%00@example.com\t',
  'a@example.com\u2028Bcc: x@example.com',
];

export const HOSTILE_LOCALES: unknown[] = [
  ...WRONG_TYPES_OPTIONAL, '', 'e', 'en\r\nBcc: x@example.com', 'en-US\n', 'en\u0000', '../../etc/passwd', "en'; --", 'e'.repeat(100),
  'ｅｎ', 'en\u2028', 'en_US.UTF-8', '{{7*7}}', '${7*7}', '<script>alert(1)</script>', 'en-' + 'x'.repeat(40),
];

export const HOSTILE_PURPOSES: unknown[] = [
  ...WRONG_TYPES_OPTIONAL, '', 'LOGIN', 'login\n', 'login\r\nX: y', '__proto__', 'constructor', 'undeclared', 'a'.repeat(40),
  "login' OR '1'='1", 'login;--', 'transfer', 'lоgin' /* Cyrillic o */, 'login\u0000',
];

export const HOSTILE_CONTEXTS: unknown[] = [
  123, 'x', true, [], [1, 2], {}, { a: { b: 1 } }, { a: [1] }, { 'bad key': 1 }, { 'k\r\nX': 1 }, { a: 'x'.repeat(300) },
  { a: 'line\r\nbreak' }, Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i])), { ['1abc']: 1 },
];

export const HOSTILE_CODES: unknown[] = [
  ...WRONG_TYPES, 123456, 0, '', ' ', ...Array.from({ length: 6 }, (_, n) => '1'.repeat(n)),
  ...Array.from({ length: 10 }, (_, n) => '2'.repeat(11 + n)), '12345a', ' 123456', '123456 ', '123 456', '１２３４５６',
  '٠١٢٣٤٥', '¹²³⁴⁵⁶', '123456\n', '123456\r\n', '-12345', '+123456', '1e5', '0x1E240', '12345.6', "' OR 1=1--",
  '123456\u0000', '12345\u200b6',
];

/** Path parameters that cannot be challenge ids. */
export const HOSTILE_IDS: string[] = [
  'not-a-uuid', '123', '0', "'%20OR%201%3D1--", '%27', '00000000-0000-0000-0000-00000000000g', '{00000000-0000-0000-0000-000000000000}',
  '00000000-0000-0000-0000-0000000000000', '00000000000000000000000000000000', '..%2F..%2Fetc%2Fpasswd', '%00', '%E2%80%AE',
  'x'.repeat(2000), '%F0%9F%98%80', 'null', 'undefined', '__proto__', '%0d%0aSet-Cookie:%20x=y', '1;DROP%20TABLE%20otp_challenges',
];

/** Strings holding a lone UTF-16 surrogate (JSON.stringify escapes them, so they arrive as `\ud800` escapes). */
export const LONE_SURROGATES: string[] = ['\ud800', 'a\udfff', '\udc00@example.com', 'lone\ud800@example.com', '12345\udbff', 'en\udc00'];

/** Every string field any route of the app reads: OTP, admin query, accounts, payments. */
export const STRING_FIELDS: string[] = [
  'email', 'locale', 'purpose', 'code', 'password', 'currentPassword', 'to', 'recipientIndex', 'ip', 'challengeId', 'event', 'from', 'afterSeq',
];

/** Keys that name an object's prototype machinery, as own keys of the body, of `context` and deeper. */
export const RESERVED_KEYS: string[] = ['__proto__', 'constructor', 'prototype'];

const BASE_BODIES: [RegExp, Record<string, unknown>][] = [
  [/\/challenges$/, { email: 'fuzz.base@example.com' }],
  [/\/verify$/, { code: '123456' }],
  // Every admin filter is optional: an out-of-range limit keeps every fuzzed query a refusal, whatever else it holds.
  [/^\/admin\/otp\/audit\/(query|export)$/, { limit: 0 }],
];

const RAW_BODIES: { type: string; body: string | Buffer }[] = [
  { type: 'application/json', body: '{' },
  { type: 'application/json', body: '{"email":' },
  { type: 'application/json', body: '{"code":"123456",}' },
  { type: 'application/json', body: "{'code':'123456'}" },
  { type: 'application/json', body: 'null' },
  { type: 'application/json', body: '"123456"' },
  { type: 'application/json', body: '123456' },
  { type: 'application/json', body: '[]' },
  { type: 'application/json', body: '[{"code":"123456"}]' },
  { type: 'application/json', body: '{"__proto__":{"admin":true},"code":"123456"}' },
  { type: 'application/json', body: '{"constructor":{"prototype":{"x":1}}}' },
  { type: 'application/json', body: '{"code":"123456","code":"654321","extra":1}' },
  { type: 'application/json', body: '['.repeat(5000) + ']'.repeat(5000) },
  { type: 'application/json', body: '{"a":'.repeat(1500) + '1' + '}'.repeat(1500) },
  { type: 'application/json', body: JSON.stringify({ email: 'a@example.com', pad: 'x'.repeat(17 * 1024) }) },
  { type: 'application/json', body: JSON.stringify({ code: '123456', pad: 'y'.repeat(1024 * 1024) }) },
  { type: 'application/json', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) },
  { type: 'application/json; charset=utf-16', body: '{"code":"123456"}' },
  { type: 'application/json', body: '\u0000\u0001\u0002' },
  { type: 'text/plain', body: 'email=a@example.com' },
  { type: 'application/x-www-form-urlencoded', body: 'email=a%40example.com&code=123456' },
  { type: 'multipart/form-data; boundary=x', body: '--x\r\nContent-Disposition: form-data; name="code"\r\n\r\n123456\r\n--x--' },
  { type: 'application/xml', body: '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>' },
];

/** Fills `:params` with a valid-looking uuid (so the body is what gets refused). */
function concrete(path: string, id: string): string {
  return path.replace(/:[A-Za-z_]+/g, id);
}

/**
 * Malformed requests for one route: every hostile value in every field it
 * knows, raw bodies, bad ids, query strings, wrong methods, then seeded random
 * junk until `atLeast` requests.
 */
export function malformedRequestsFor(route: AppRoute, atLeast: number, rnd: SeededRandom, liveId: string): RawRequest[] {
  const out: RawRequest[] = [];
  const json = (path: string, body: unknown, headers: Record<string, string> = {}): RawRequest => ({
    method: route.method, path, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body),
  });
  const ids = [liveId, '00000000-0000-4000-8000-000000000000'];
  const path = () => concrete(route.path, rnd.pick(ids));
  const base = BASE_BODIES.find(([re]) => re.test(route.path))?.[1] ?? {};
  const takesBody = route.method !== 'GET' && route.method !== 'HEAD';
  const fields: [string, unknown[]][] = [
    ['email', HOSTILE_EMAILS], ['locale', HOSTILE_LOCALES], ['purpose', HOSTILE_PURPOSES], ['context', HOSTILE_CONTEXTS], ['code', HOSTILE_CODES],
  ];
  if (takesBody) {
    for (const [field, values] of fields) {
      // A field the route does not take is refused as unknown; a field it takes is refused for its value.
      for (const v of values) out.push(json(path(), { ...base, [field]: v }));
    }
    for (const raw of RAW_BODIES) out.push({ method: route.method, path: path(), headers: { 'content-type': raw.type }, body: raw.body });
    out.push(json(path(), { ...base, purpose: 'transfer' })); // a purpose that requires a context, without one
    // A lone surrogate in every string field, in the body and in `context`.
    // Two of them per field (taken in turn, so every one is sent), to keep the run bounded.
    STRING_FIELDS.forEach((field, i) => {
      for (const v of [LONE_SURROGATES[(2 * i) % LONE_SURROGATES.length], LONE_SURROGATES[(2 * i + 1) % LONE_SURROGATES.length]]) {
        out.push(json(path(), { ...base, [field]: v }));
      }
    });
    for (const v of LONE_SURROGATES.slice(0, 2)) out.push(json(path(), { ...base, context: { a: v } }), json(path(), { ...base, context: { [`k${v}`]: 1 } }));
    // Own __proto__/constructor/prototype keys at every depth: written as raw JSON (an object literal would set the prototype).
    const baseJson = JSON.stringify(base).slice(1, -1);
    const withRaw = (member: string) => `{${baseJson}${baseJson ? ',' : ''}${member}}`;
    for (const key of RESERVED_KEYS) {
      for (const member of [
        `"${key}":1`, `"${key}":{}`, `"${key}":{"prototype":{"x":1}}`, `"context":{"${key}":1}`, `"context":{"${key}":{"prototype":{}}}`,
        `"context":{"a":1,"${key}":"x"}`, `"from":{"${key}":{}}`, `"email":{"${key}":"a@example.com"}`, `"amount":{"${key}":1}`,
      ]) {
        out.push({ method: route.method, path: path(), headers: { 'content-type': 'application/json' }, body: withRaw(member) });
      }
    }
  }
  if (route.path.includes(':')) {
    for (const id of HOSTILE_IDS) out.push(json(concrete(route.path, id), base));
  }
  for (const q of ['?code=123456', '?email=a%40example.com', '?x=%0d%0a', '?' + 'a=1&'.repeat(200)]) {
    out.push(takesBody ? json(path() + q, base) : { method: route.method, path: path() + q });
  }
  for (const m of ['PUT', 'PATCH', 'DELETE', 'GET', 'POST'].filter((m) => m !== route.method)) {
    out.push({ method: m, path: path(), headers: { 'content-type': 'application/json' }, body: JSON.stringify(base) });
  }
  const junkAlphabet = 'abcXYZ0123456789@._-+ \'"\\;%$(){}[]<>\r\n\t\u0000\u00e9\u2028\u202e\uff20';
  while (out.length < atLeast) {
    const kind = rnd.int(4);
    const headers: Record<string, string> = { 'x-forwarded-for': `${rnd.int(256)}.${rnd.int(256)}.0.${rnd.int(256)}, junk`, 'user-agent': rnd.string(rnd.int(300), 'abc ;/()') };
    if (!takesBody) {
      out.push({ method: route.method, path: path() + '?' + encodeURIComponent(rnd.string(20, junkAlphabet)), headers });
    } else if (kind === 0) {
      // Always ends in CR/LF, so no random draw can happen to be valid.
      out.push(json(path(), { ...base, [rnd.pick(fields)[0]]: rnd.string(rnd.int(40), junkAlphabet) + '\r\n' }, headers));
    } else if (kind === 1) {
      const [field, values] = rnd.pick(fields);
      out.push(json(path(), { ...base, [field]: rnd.pick(values), [rnd.string(6, 'abcdef')]: rnd.int(10) }, headers));
    } else if (kind === 2) {
      out.push({ method: route.method, path: path(), headers: { 'content-type': 'application/json', ...headers }, body: rnd.string(1 + rnd.int(200), junkAlphabet + ':,') });
    } else {
      out.push(json(concrete(route.path, rnd.pick(HOSTILE_IDS)), { ...base, code: rnd.digits(rnd.pick([1, 5, 7, 11, 30])) }, headers));
    }
  }
  return out;
}
