import { canonicalBody, chainHash, commitLink, commitPersonal, encodeControl, erasureDigest, GENESIS_HASH, sanitizeDetail } from './audit-chain';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../crypto/canonical';
import { owaspNameOf } from './owasp-vocabulary';

describe('audit chain primitives', () => {
  it('the hash covers every hashed field and the seq', () => {
    const c = {
      at: new Date('2026-01-01T00:00:00.000Z'), event: 'verify.failed', owasp: 'authn_login_fail', outcome: 'failure',
      challengeId: null, purpose: 'login', requestId: 'r1', detail: { attempt: 1 }, subjectCommitment: null,
    };
    const h = chainHash(GENESIS_HASH, '1', canonicalBody(c));
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(chainHash(GENESIS_HASH, '2', canonicalBody(c))).not.toBe(h);
    for (const change of [{ outcome: 'success' }, { detail: { attempt: 2 } }, { at: new Date('2026-01-01T00:00:00.001Z') }, { purpose: null }]) {
      expect(chainHash(GENESIS_HASH, '1', canonicalBody({ ...c, ...change }))).not.toBe(h);
    }
  });

  it('the personal commitment depends on the salt and on each field', () => {
    const p = { recipientIndex: 'idx', ip: '203.0.113.1', userAgent: 'ua' };
    const salt = Buffer.alloc(16, 1).toString('base64');
    const c = commitPersonal(p, salt);
    expect(commitPersonal(p, Buffer.alloc(16, 2).toString('base64'))).not.toBe(c);
    expect(commitPersonal({ ...p, ip: '203.0.113.2' }, salt)).not.toBe(c);
    expect(commitPersonal({ ...p, userAgent: null }, salt)).not.toBe(commitPersonal({ ...p, userAgent: '' }, salt));
  });

  it('R40: the version 2 body covers the link commitment and never equals a version 1 body', () => {
    const c = {
      at: new Date('2026-01-01T00:00:00.000Z'), event: 'challenge.issued', owasp: null, outcome: 'success',
      challengeId: null, purpose: 'login', requestId: null, detail: null, subjectCommitment: 'a'.repeat(64),
    };
    const v1 = canonicalBody({ ...c, version: 1 });
    const v2 = canonicalBody({ ...c, version: 2, linkCommitment: 'b'.repeat(64) });
    expect(v1).not.toBe(v2);
    expect(canonicalBody({ ...c, version: 1, linkCommitment: 'b'.repeat(64) })).toBe(v1);
    expect(canonicalBody({ ...c, version: 2, linkCommitment: 'c'.repeat(64) })).not.toBe(v2);
    expect(canonicalBody({ ...c, version: 2, linkCommitment: null })).not.toBe(v2);
  });

  it('R40: the link commitment binds index, user agent and network under its own salt, apart from the personal one', () => {
    const salt = Buffer.alloc(16, 3).toString('base64');
    const l = { recipientIndex: 'idx', userAgent: 'ua', ipNetwork: '203.0.113.0/24' };
    const c = commitLink(l, salt);
    for (const change of [{ recipientIndex: 'idy' }, { userAgent: 'ub' }, { ipNetwork: '203.0.114.0/24' }, { ipNetwork: null }]) {
      expect(commitLink({ ...l, ...change }, salt)).not.toBe(c);
    }
    expect(commitLink(l, Buffer.alloc(16, 4).toString('base64'))).not.toBe(c);
    expect(commitPersonal({ recipientIndex: 'idx', ip: 'ua', userAgent: '203.0.113.0/24' }, salt)).not.toBe(c);
    expect(erasureDigest(['1', '12'])).not.toBe(erasureDigest(['11', '2']));
  });

  it('R39: CR, LF and other control characters are encoded', () => {
    expect(encodeControl('a\r\nb\u0000c\u007f')).toBe('a\\r\\nb\\u0000c\\u007f');
    expect(encodeControl('x'.repeat(300))).toHaveLength(256);
  });

  it('detail keeps small scalars and drops secret-looking keys and addresses', () => {
    expect(sanitizeDetail({ attempt: 2, reason: 'wrong_code', code: '123456', token: 't', apiKey: 'k', email: 'a@b.c', note: 'mail to a@b.c', nested: { x: 1 } as never }))
      .toEqual({ attempt: 2, reason: 'wrong_code', note: '[redacted]' });
    expect(sanitizeDetail(undefined)).toBeNull();
  });

  it('maps events to the OWASP logging vocabulary where a name fits', () => {
    const o = (name: string, outcome: 'success' | 'failure' = 'failure', detail?: Record<string, string>) => owaspNameOf({ name, outcome, detail });
    expect(o('verify.succeeded', 'success')).toBe('authn_login_success');
    expect(o('verify.failed')).toBe('authn_login_fail');
    expect(o('challenge.exhausted')).toBe('authn_login_fail_max');
    expect(o('budget.spent')).toBe('authn_login_lock');
    expect(o('token.refused', 'failure', { reason: 'reused' })).toBe('authn_token_reuse');
    expect(o('request.throttled')).toBe('excess_rate_limit_exceeded');
    expect(o('rate_limit.exceeded')).toBe('excess_rate_limit_exceeded');
    expect(o('challenge.resent', 'failure', { reason: 'cooldown' })).toBe('excess_rate_limit_exceeded');
    expect(o('mail.delivered', 'success')).toBeNull();
  });

  // Rows written by earlier releases must keep verifying: the hashed bytes are pinned to their first construction.
  describe('stored formats, as first written (rows of earlier releases verify)', () => {
    const lengthPrefixed = (fields: (string | null)[]) => Buffer.concat(fields.flatMap((f) => {
      const bytes = Buffer.from(f ?? '', 'utf8');
      const len = Buffer.alloc(5);
      len.writeUInt8(f === null ? 0 : 1, 0);
      len.writeUInt32BE(bytes.length, 1);
      return [len, bytes];
    }));
    const first = (salt: string, fields: (string | null)[]) =>
      createHash('sha256').update(Buffer.from(salt, 'base64')).update(lengthPrefixed(fields)).digest('hex');
    const salts = [Buffer.alloc(16, 7).toString('base64'), Buffer.from('0123456789abcdef').toString('base64'), '', 'not base64!'];
    const people = [
      { recipientIndex: 'idx-1', ip: '203.0.113.7', userAgent: 'Mozilla/5.0' },
      { recipientIndex: null, ip: '2001:db8::1', userAgent: '' },
      { recipientIndex: 'ключ', ip: null, userAgent: 'agent 🙂 é' },
      { recipientIndex: null, ip: null, userAgent: null },
    ];

    it('commitPersonal and commitLink hash salt and length-prefixed fields as before', () => {
      for (const salt of salts) {
        for (const p of people) {
          expect(commitPersonal(p, salt)).toBe(first(salt, [p.recipientIndex, p.ip, p.userAgent]));
          const link = { recipientIndex: p.recipientIndex, userAgent: p.userAgent, ipNetwork: p.ip && '203.0.113.0/24' };
          expect(commitLink(link, salt)).toBe(first(salt, ['link', link.recipientIndex, link.userAgent, link.ipNetwork]));
        }
      }
    });

    it('canonicalBody is the canonical JSON of its fields (versions 1 and 2), and chainHash and erasureDigest are unchanged', () => {
      const c = {
        at: new Date('2026-01-01T00:00:00.000Z'), event: 'verify.failed', owasp: null, outcome: 'failure', challengeId: 'c "1" \\',
        purpose: 'login', requestId: undefined as unknown as null, detail: { b: 1, a: 'x"y' }, subjectCommitment: null,
      };
      const fields = [c.at.toISOString(), c.event, c.owasp, c.outcome, c.challengeId, c.purpose, null, canonicalJson(c.detail), null];
      expect(canonicalBody({ ...c, version: 1 })).toBe(canonicalJson(fields));
      expect(canonicalBody({ ...c, version: 2, linkCommitment: 'f'.repeat(64) })).toBe(canonicalJson(['v2', ...fields, 'f'.repeat(64)]));
      expect(canonicalBody({ ...c, detail: null })).toBe(canonicalJson(['v2', ...fields.slice(0, 7), null, null, null]));
      const body = canonicalBody(c);
      expect(chainHash(GENESIS_HASH, '12', body)).toBe(createHash('sha256').update(`${GENESIS_HASH}\n12\n${body}`, 'utf8').digest('hex'));
      expect(erasureDigest(['9', '10'])).toBe(createHash('sha256').update('9,10', 'utf8').digest('hex'));
    });
  });
});
