import request from 'supertest';
import { OtpEmailInvalidError, OtpService } from '../src/otp';
import { createTestDatabase, TestDatabase } from './support/test-database';
import { HTTP_ADAPTERS, RELAXED_RATE_LIMITS, TestApp } from './support/test-app';
import { testApp } from './support/test-app.builder';
import { TestResources } from './support/test-resources';

/**
 * Spellings of one mailbox that the HTTP route accepts, as a function of a unique
 * local part: the first is the plain form, the mail library delivers every other one
 * to the same mailbox.
 */
const SPELLINGS: [string, (l: string) => string, (l: string) => string[]][] = [
  ['quoted local parts', (l) => `${l}@example.com`, (l) => [`"${l}"@example.com`, `"\\${l}"@example.com`, `${l.toUpperCase()}@EXAMPLE.com`]],
  ['the two forms of an internationalised domain', (l) => `${l}@bücher.example`, (l) => [`${l}@xn--bcher-kva.example`, `${l}@XN--BCHER-KVA.example`, `"${l}"@BÜCHER.example`]],
];

/** Accepted by a plain email check, but with no one mailbox the transport would agree on. */
const UNCANONICAL = [
  '"a b"@example.com', '"v@x.com"@example.com', '"a..b"@example.com', '""@example.com', '"vic\\"tim"@example.com',
  'vic\u200btim@example.com', 'victim@exa\u00admple.com', 'victim@xn--zz.example',
];

describe.each(HTTP_ADAPTERS)('one mailbox, one identity on %s', (adapter) => {
  let db: TestDatabase;
  const open = new TestResources();

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(() => open.close());
  afterAll(async () => db?.drop());

  async function boot(env: NodeJS.ProcessEnv = {}): Promise<TestApp> {
    return testApp().database(db).adapter(adapter).env({ ...RELAXED_RATE_LIMITS, ...env }).closedBy(open).boot();
  }

  let n = 0;
  const local = () => `id${++n}x${process.pid}t${Date.now()}`;
  const issue = (t: TestApp, email: string) => request(t.app.getHttpServer()).post('/auth/otp/challenges').send({ email });
  const mailsTo = (t: TestApp, address: string) => t.mailbox.list().filter((m) => m.to === address);

  it.each(SPELLINGS)('R11/R30: every spelling with %s shares one per-recipient limit: the second send is 429', async (_name, plain, others) => {
    const t = await boot({ RATE_LIMIT_RECIPIENT: '1/60' });
    const otp = t.app.get(OtpService);
    for (const i of [0, 1, 2]) {
      const l = local();
      const first = await issue(t, plain(l)).expect(202);
      const again = await issue(t, others(l)[i]);
      expect({ spelling: others(l)[i], status: again.status, error: again.body.error }).toEqual({ spelling: others(l)[i], status: 429, error: 'otp_throttled' });
      // One mail, to the canonical address the limit is keyed on.
      const canonical = plain(l).replace('bücher', 'xn--bcher-kva');
      await t.codeFor(first.body.challengeId);
      expect(t.mailbox.list().filter((m) => m.to.includes(l)).map((m) => m.to)).toEqual([canonical]);
      expect(otp.recipientIndex(others(l)[i])).toBe(otp.recipientIndex(plain(l)));
    }
  });

  it.each(SPELLINGS)('R7/R30: every spelling with %s shares one live challenge: issuing with spelling B supersedes spelling A\'s', async (_name, plain, others) => {
    const t = await boot();
    const http = request(t.app.getHttpServer());
    const otp = t.app.get(OtpService);
    for (const i of [0, 1, 2]) {
      const l = local();
      const other = others(l)[i];
      const a = await issue(t, plain(l)).expect(202);
      const codeA = await t.codeFor(a.body.challengeId);
      const b = await issue(t, other).expect(202);
      const codeB = await t.codeFor(b.body.challengeId);
      await http.post(`/auth/otp/challenges/${a.body.challengeId}/verify`).send({ code: codeA }).expect(401);
      const [{ live }] = await db.dataSource.query(
        `SELECT count(*)::int AS live FROM otp_challenges WHERE recipient_index = $1 AND consumed_at IS NULL AND superseded_at IS NULL`,
        [otp.recipientIndex(plain(l))],
      );
      expect(live).toBe(1);
      await http.post(`/auth/otp/challenges/${b.body.challengeId}/verify`).send({ code: codeB }).expect(200);
      const canonical = plain(l).replace('bücher', 'xn--bcher-kva');
      expect(mailsTo(t, canonical)).toHaveLength(2);
    }
  });

  it('R30: a spelling that cannot be canonicalised is a 400 in the validation shape and sends nothing', async () => {
    const t = await boot();
    const counts = async () => (await db.dataSource.query(
      `SELECT (SELECT count(*) FROM otp_challenges)::int AS challenges, (SELECT count(*) FROM otp_mail_outbox)::int AS mails`))[0];
    // Earlier tests of this suite wrote rows; none may be added for these addresses.
    const before = await counts();
    for (const email of UNCANONICAL) {
      const res = await issue(t, email);
      expect({ email, status: res.status, body: res.body }).toEqual({
        email, status: 400, body: { error: 'validation_failed', message: 'The request is not valid.', details: [expect.stringMatching(/email/)] },
      });
    }
    // A host calling the service directly gets the module's 400 error, and nothing is written either.
    for (const email of UNCANONICAL) await expect(t.app.get(OtpService).issue({ email })).rejects.toBeInstanceOf(OtpEmailInvalidError);
    expect(await counts()).toEqual(before);
    expect(t.mailbox.list()).toEqual([]);
  });
});
