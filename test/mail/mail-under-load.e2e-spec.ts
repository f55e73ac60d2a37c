import { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { OtpService } from '../../src/otp';
import { makeTestCert, TestCert } from '../support/smtp-test-server';
import { pollFor, RELAXED_RATE_LIMITS, testKeyLine } from '../support/test-app';
import { testApp } from '../support/test-app.builder';
import { TestResources } from '../support/test-resources';

/** A relay that only counts what it accepts (STARTTLS, certificate checked): no parsing, so the app's own work is what is measured. */
async function countingRelay(cert: TestCert): Promise<{ port: number; accepted: () => number; close(): Promise<void> }> {
  let accepted = 0;
  const server = new SMTPServer({
    key: cert.key, cert: cert.cert, authOptional: true, disableReverseLookup: true, logger: false, closeTimeout: 200,
    onData(stream, _session, cb) {
      stream.resume();
      stream.on('end', () => {
        accepted++;
        cb();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.server.address() as AddressInfo).port,
    accepted: () => accepted,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Codes must reach the relay while codes are being issued, not after: a code that arrives
 * once the load is over is a sign-in that failed. Four callers issue back to back (the
 * instance is saturated) for a few seconds, with the dispatcher's default settings.
 */
describe('Mail keeps flowing while codes are issued (PostgreSQL, real SMTP)', () => {
  let cert: TestCert;
  const open = new TestResources();
  beforeAll(() => {
    cert = makeTestCert();
  });
  afterAll(async () => {
    await open.close();
    cert?.remove();
  }, 60_000);

  it('delivers a quarter or more of the codes issued under saturating issue load before the load ends, and the rest right after', async () => {
    const relay = await countingRelay(cert);
    const t = await testApp().withDatabase().server(relay)
      .env({ SMTP_URL: `smtp://127.0.0.1:${relay.port}`, SMTP_CA_FILE: cert.certFile, MAIL_FROM: 'otp@example.test', APP_URL: 'https://app.example.test',
        OTP_KEYS: testKeyLine('k1'), OTP_ENCRYPTION_KEYS: testKeyLine('e1'), ...RELAXED_RATE_LIMITS })
      .closedBy(open)
      .boot();
    const otp = t.app.get(OtpService);
    let issued = 0;
    let n = 0;
    const until = Date.now() + 8_000;
    const caller = async () => {
      while (Date.now() < until && issued < 1_500) {
        await otp.issue({ email: `load.${n++}@example.com` });
        issued++;
      }
    };
    await Promise.all([caller(), caller(), caller(), caller()]);
    const deliveredMeanwhile = relay.accepted();

    // The relay runs in this process too, so the mail's share of one saturated event loop is what
    // this measures. Before (5 connections, each held idle during a database lookup per queued
    // code): 0.07-0.16 of the codes issued reached the relay meanwhile, the rest in the 15-30 s
    // after the load. Now 0.30-0.36 on a loaded 2-core machine (and 0.84-1.00 with the relay and
    // the load generator in processes of their own, `docs/performance.md`).
    expect(issued).toBeGreaterThan(50);
    expect(deliveredMeanwhile / issued).toBeGreaterThanOrEqual(0.25);
    await pollFor(() => (relay.accepted() >= issued ? true : undefined), 30_000);
  }, 60_000);
});
