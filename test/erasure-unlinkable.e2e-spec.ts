import request from 'supertest';
import { OtpErasureService } from '../src/otp';
import { recipientTagOf, untaggedChallengeId } from '../src/otp/crypto/challenge-id';
import { canonicalEmail } from '../src/otp/crypto/canonical';
import { OtpKeyring } from '../src/otp/crypto/otp-keyring';
import { logSink, RELAXED_RATE_LIMITS, testKeyLine } from './support/test-app';
import { BootedTestApp, testApp } from './support/test-app.builder';

/**
 * Challenge ids carry a keyed tag of their recipient (UUIDv8, the first 52 bits): the client and
 * the request in flight see it, nothing kept does. Rows and log lines hold the id with the tag
 * zeroed, so after an erasure nothing left links them to the person, or to each other.
 */
describe('challenge ids at rest: no recipient tag in any row or log line (R30)', () => {
  let t: BootedTestApp;
  const chunks: string[] = [];
  const adminToken = 'admin-' + Math.random().toString(36).slice(2);

  beforeAll(async () => {
    const sink = logSink(chunks);
    const env = { OTP_KEYS: testKeyLine('tagk'), OTP_ENCRYPTION_KEYS: testKeyLine('tage'), OTP_ADMIN_TOKEN: adminToken, LOG_LEVEL: 'debug', ...RELAXED_RATE_LIMITS };
    t = await testApp().withDatabase().env(env).logTo(sink).boot();
  });
  afterAll(async () => t?.close());

  const http = () => request(t.app.getHttpServer());
  const admin = (path: string) => http().post(path).set('Authorization', `Bearer ${adminToken}`);
  const auditOf = async (challengeId: string) =>
    (await admin('/admin/otp/audit/query').send({ challengeId }).expect(200)).body.events as { seq: string; event: string; challengeId: string; recipientIndex: string | null; ip: string | null }[];

  /** Whether `text` holds the first 48 bits of `tag` in any spelling of an id (dashes, case). */
  const holdsTag = (text: string, tag: string) => text.toLowerCase().replace(/-/g, '').includes(tag.slice(0, 12));

  /** A sign-in (one wrong code first), a transfer approved by a host-issued challenge, a resend of a used challenge. */
  async function flow(address: string): Promise<string[]> {
    const issued = await http().post('/auth/otp/challenges').send({ email: address }).expect(202);
    const id = issued.body.challengeId as string;
    const code = await t.codeFor(id);
    await http().post(`/auth/otp/challenges/${id}/verify`).send({ code: code === '000000' ? '000001' : '000000' }).expect(401);
    const proof = (await http().post(`/auth/otp/challenges/${id}/verify`).send({ code }).expect(200)).body.token as string;
    const session = (await http().post('/accounts/sessions').set('X-OTP-Token', proof).send({ email: address }).expect(201)).body.sessionToken as string;
    await http().post(`/auth/otp/challenges/${id}/resend`).expect(401);

    const context = { amount: 12, to: 'bob' };
    const transfer = await http().post('/payments/transfers/challenges').set('Authorization', `Bearer ${session}`).send(context).expect(202);
    const transferId = transfer.body.challengeId as string;
    const transferProof = await http().post(`/auth/otp/challenges/${transferId}/verify`).send({ code: await t.codeFor(transferId), context }).expect(200);
    await http().post('/payments/transfers').set('Authorization', `Bearer ${session}`).set('X-OTP-Token', transferProof.body.token).send(context).expect(201);
    return [id, transferId];
  }

  it('R30: after otp:erase no audit row, no table and no log line of the flow holds the tag of that person\'s challenge ids; the chain verifies; the admin filter finds rows by the full id', async () => {
    const victim = `Tag.Victim.${Date.now()}@example.com`;
    const keyring = t.app.get(OtpKeyring);
    const tag = keyring.recipientTag(keyring.blindIndex(canonicalEmail(victim)));
    const from = chunks.length;
    const ids = await flow(victim);
    await flow(`tag.bystander.${Date.now()}@example.com`);
    // The ids the client got carry the tag (what the verify limiter reads): the test looks for something real.
    expect(ids.map(recipientTagOf)).toEqual([tag, tag]);

    // An operator searches with the id a user reports, or with the id as logs show it: the same rows.
    const byClientId = await auditOf(ids[0]);
    expect(byClientId.map((e) => e.event)).toEqual(expect.arrayContaining(['challenge.issued', 'verify.failed', 'verify.succeeded', 'token.redeemed']));
    expect(byClientId.every((e) => e.challengeId === untaggedChallengeId(ids[0]))).toBe(true);
    expect((await auditOf(untaggedChallengeId(ids[0]))).map((e) => e.seq)).toEqual(byClientId.map((e) => e.seq));
    expect((await auditOf(ids[1])).map((e) => e.event)).toEqual(expect.arrayContaining(['challenge.issued', 'verify.succeeded']));

    await t.app.get(OtpErasureService).eraseEmail(victim);

    // No row of any table holds the tag, in any column: the audit trail's emptied rows included.
    const tables: { table_name: string }[] = await t.db.dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`);
    expect(tables.map((r) => r.table_name)).toEqual(expect.arrayContaining(['otp_audit_log', 'transfers']));
    for (const { table_name } of tables) {
      const dump = JSON.stringify(await t.db.dataSource.query(`SELECT * FROM "${table_name}"`));
      expect({ table_name, tagged: holdsTag(dump, tag) }).toEqual({ table_name, tagged: false });
    }
    // The emptied rows are still found by the id the user has, and hold nothing personal.
    const emptied = await auditOf(ids[0]);
    expect(emptied.map((e) => e.seq)).toEqual(byClientId.map((e) => e.seq));
    // (Those that were the person's: a failed resend names no recipient, so erasure cannot tell it is theirs.)
    const theirs = new Set(byClientId.filter((e) => e.recipientIndex !== null).map((e) => e.seq));
    expect(theirs.size).toBeGreaterThanOrEqual(3);
    expect(emptied.filter((e) => theirs.has(e.seq)).every((e) => e.recipientIndex === null && e.ip === null)).toBe(true);
    expect((await http().get('/admin/otp/audit/verify').set('Authorization', `Bearer ${adminToken}`).expect(200)).body).toMatchObject({ ok: true });

    // No log line written during the flow holds it either; they do show the ids, tag zeroed.
    const output = chunks.slice(from).join('');
    const paths = output.trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.req).map((l) => l.req.url as string);
    expect(paths).toEqual(expect.arrayContaining([`/auth/otp/challenges/${untaggedChallengeId(ids[0])}/verify`, `/auth/otp/challenges/${untaggedChallengeId(ids[1])}/verify`]));
    expect(holdsTag(output, tag)).toBe(false);
  });
});
