import { createTransport } from 'nodemailer';
import { OtpEmailInvalidError } from '../core/otp.errors';
import { canonicalEmail, tryCanonicalEmail } from './canonical';

/** Every spelling on the right reaches the mailbox on the left, so it must canonicalise to it. */
const EQUIVALENT: [string, string[]][] = [
  ['victim@example.com', [
    'victim@example.com', 'VICTIM@Example.COM', '  victim@example.com ', '"victim"@example.com', '"\\victim"@example.com',
    '"\\v\\i\\c\\t\\i\\m"@example.com', '"VICTIM"@example.com', 'victim@example.com.', 'victim@EXAMPLE.COM.',
    'victim\uff20example.com' /* fullwidth @ */, '\uff56\uff49\uff43\uff54\uff49\uff4d@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com',
    'victim@example\uff0ecom' /* fullwidth full stop */, 'victim@example\u3002com' /* ideographic full stop */,
  ]],
  ['x@xn--bcher-kva.example', [
    'x@bücher.example', 'x@xn--bcher-kva.example', 'x@XN--BCHER-KVA.EXAMPLE', 'x@BÜCHER.example', 'x@bu\u0308cher.example',
    'x@bücher\u3002example', 'x@bücher.example.', '"x"@bücher.example', 'X@xn--BCHER-kva.example.',
  ]],
  ['ü@xn--bcher-kva.example', ['ü@bücher.example', 'Ü@bücher.example', 'u\u0308@xn--bcher-kva.example', '"ü"@BÜCHER.example']],
  ['first.last+tag@example.com', ['first.last+tag@example.com', '"first.last+tag"@example.com', 'First.Last+Tag@Example.com']],
  ["{|}~!#$%&'*=?^_`-/@example.com", ["{|}~!#$%&'*=?^_`-/@example.com", "\"{|}~!#$%&'*=?^_`-/\"@example.com"]],
];

/** Spellings with no single mailbox the transport would agree on, or none at all: refused. */
const REFUSED: [string, string][] = [
  ['a quoted local part with a space', '"a b"@example.com'],
  ['a quoted local part with an @', '"v@x.com"@example.com'],
  ['a quoted local part that is not a dot-atom (double dot)', '"a..b"@example.com'],
  ['an empty quoted local part', '""@example.com'],
  ['an unterminated quoted local part', '"\\"@example.com'],
  ['a quoted local part with an escaped quote', '"vic\\"tim"@example.com'],
  ['quotes inside a local part (a display name to nodemailer)', 'a"b"@example.com'],
  ['a quoted word glued to an atom', '"vic"tim@example.com'],
  ['a comment in the local part', 'vic(c)tim@example.com'],
  ['a trailing comment', 'victim@example.com (c)'],
  ['a display name', 'Name <victim@example.com>'],
  ['two addresses', 'a@example.com,b@example.com'],
  ['a zero-width space in the local part', 'vic\u200btim@example.com'],
  ['a soft hyphen in the domain (IDNA drops it)', 'victim@exa\u00admple.com'],
  ['a zero-width joiner in the domain', 'victim@exa\u200dmple.com'],
  ['a zero-width space before the domain', 'victim@\u200bexample.com'],
  ['a word joiner', 'vic\u2060tim@example.com'],
  ['a combining grapheme joiner', 'victim\u034f@example.com'],
  ['a right-to-left override', '\u202evictim@example.com'],
  ['a variation selector', 'victim\ufe0f@example.com'],
  ['a Hangul filler', 'victim\u3164@example.com'],
  ['a trailing CR/LF', 'victim@example.com\r\n'],
  ['a CR/LF header injection', 'victim@example.com\r\nBcc: x@evil.test'],
  ['a LF in the local part', 'vic\ntim@example.com'],
  ['a NUL', 'victim@example.com\u0000'],
  ['a NEL', 'victim\u0085@example.com'],
  ['a line separator', 'victim@example.com\u2028Bcc: x@evil.test'],
  ['a space inside', 'vic tim@example.com'],
  ['a no-break space inside (NFKC makes it a space)', 'vic\u00a0tim@example.com'],
  ['an invalid A-label', 'victim@xn--zz.example'],
  ['a percent-encoded domain (a URL parser would decode it)', 'victim@ex%61mple.com'],
  ['a numeric host (a URL parser reads it as an IPv4 address)', 'victim@0x7f.1'],
  ['an IPv4 domain', 'victim@127.0.0.1'],
  ['a domain literal', 'victim@[127.0.0.1]'],
  ['a single-label domain', 'victim@localhost'],
  ['an underscore in the domain', 'victim@a_b.example'],
  ['a label starting with a hyphen', 'victim@-a.example'],
  ['an empty label', 'victim@example..com'],
  ['two trailing dots', 'victim@example.com..'],
  ['a double dot in the local part', 'a..b@example.com'],
  ['a leading dot', '.a@example.com'],
  ['a trailing dot in the local part', 'a.@example.com'],
  ['a backslash outside quotes', '\\victim@example.com'],
  ['two @', 'a@b@example.com'],
  ['no domain', 'a@'],
  ['no local part', '@example.com'],
  ['no @', 'victim'],
  ['empty', ''],
  ['a local part over 64 octets', `${'x'.repeat(65)}@example.com`],
  ['a local part over 64 octets in UTF-8', `${'ü'.repeat(33)}@example.com`],
  ['a label over 63 octets', `a@${'x'.repeat(64)}.com`],
  ['an address over 254 octets once the domain is an A-label', `a@${'bücher.'.repeat(30)}com`],
];

/** What nodemailer puts in RCPT TO for `to`, and the address in its To header. */
async function transportView(to: string): Promise<{ rcpt: string[]; header: string | undefined }> {
  const transport = createTransport({ streamTransport: true, buffer: true });
  const info = await transport.sendMail({ from: 'otp@example.test', to, subject: 's', text: 't' });
  const raw = (info.message as Buffer).toString('utf8');
  return { rcpt: info.envelope.to as string[], header: /^To: (.*)$/m.exec(raw)?.[1] };
}

describe('canonicalEmail: one mailbox, one identity', () => {
  const spellings = EQUIVALENT.flatMap(([canonical, list]) => list.map((s) => [JSON.stringify(s), s, canonical] as const));

  it.each(spellings)('R30: %s canonicalises to the mailbox it reaches', (_name, spelling, canonical) => {
    expect(canonicalEmail(spelling)).toBe(canonical);
  });

  it.each(REFUSED)('R30: refuses %s', (_name, spelling) => {
    expect(tryCanonicalEmail(spelling)).toBeUndefined();
    expect(() => canonicalEmail(spelling)).toThrow(OtpEmailInvalidError);
  });

  it('refuses values that are not strings', () => {
    for (const v of [undefined, null, 1, ['a@example.com'], { email: 'a@example.com' }]) expect(tryCanonicalEmail(v)).toBeUndefined();
  });

  it('is idempotent: the canonical form of a canonical form is itself', () => {
    for (const [, spelling, canonical] of spellings) expect(canonicalEmail(canonicalEmail(spelling))).toBe(canonical);
  });

  it('R30: the address nodemailer delivers to for the canonical form is that same identity (RCPT TO and To header)', async () => {
    for (const [canonical] of EQUIVALENT) {
      const { rcpt, header } = await transportView(canonical);
      expect(rcpt).toHaveLength(1);
      // An ASCII local part goes out exactly as canonicalised; a UTF-8 one (SMTPUTF8) with its domain as a U-label.
      if (/^[\x00-\x7f]*$/.test(canonical.split('@')[0])) expect(rcpt[0]).toBe(canonical);
      expect(canonicalEmail(rcpt[0])).toBe(canonical);
      expect(header).toBe(rcpt[0]);
    }
  });
});
