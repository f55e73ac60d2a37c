/**
 * The mail "limit", in its own process as the app is: plain pooled nodemailer
 * (STARTTLS required, certificate checked, `BASELINE_SMTP_CONNECTIONS` pooled connections
 * (the dispatcher's number, 5 unless the harness says otherwise), 50 messages in flight) sending the app's own message (rendered once by the app's composer,
 * same headers, a new recipient and Message-ID each) to the harness's SMTP sink.
 * No database, no decryption, no rendering per message. IPC:
 *  - sends `{ type: 'ready' }`;
 *  - `{ cmd: 'send', id, port, caFile, seconds }` sends for `seconds` and answers
 *    `{ type: 'sent', id, sent }`;
 *  - `{ cmd: 'stop' }` exits.
 */
import { readFileSync } from 'node:fs';
import { createTransport } from 'nodemailer';
import { resolveOtpMailOptions } from '../../src/otp/mail/mail-options';
import { ComposedMail, OtpMailComposer } from '../../src/otp/mail/otp-mail.composer';
import { OtpMailRenderer } from '../../src/otp/mail/templates/otp-mail.renderer';

function appMessage(): ComposedMail {
  const options = resolveOtpMailOptions({ from: process.env.MAIL_FROM, appUrl: process.env.APP_URL }, false);
  const composer = new OtpMailComposer(new OtpMailRenderer(options.templatesDir, options.defaultLocale), options);
  const now = Date.now();
  return composer.code({
    challengeId: '00000000-0000-4000-8000-000000000000', to: 'mail-baseline@bench.example.com', code: '123456', purpose: 'login',
    expiresAt: new Date(now + 600_000), requestedAt: new Date(now), ip: '127.0.0.1', userAgent: 'bench',
  });
}

async function send(port: number, caFile: string, seconds: number): Promise<number> {
  const mail = appMessage();
  const transport = createTransport({
    pool: true,
    maxConnections: Number(process.env.BASELINE_SMTP_CONNECTIONS ?? 5),
    host: '127.0.0.1',
    port,
    secure: false,
    requireTLS: true,
    tls: { ca: readFileSync(caFile), servername: 'localhost', minVersion: 'TLSv1.2' },
  });
  const until = Date.now() + seconds * 1000;
  let i = 0;
  const worker = async (): Promise<void> => {
    while (Date.now() < until) {
      const n = i++;
      await transport.sendMail({
        from: mail.from, to: `baseline-${n}@bench.example.com`, subject: mail.subject, text: mail.text, html: mail.html,
        messageId: mail.messageId.replace(/^<[^@]*/, `<baseline-${process.pid}-${n}`), headers: { ...mail.headers, 'X-Entity-Ref-ID': `baseline-${n}` },
      });
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  transport.close();
  return i;
}

process.on('message', (m: { cmd: string; id?: number; port?: number; caFile?: string; seconds?: number }) => {
  if (m.cmd === 'send') {
    send(m.port!, m.caFile!, m.seconds!)
      .then((sent) => process.send!({ type: 'sent', id: m.id, sent }))
      .catch((err: Error) => process.send!({ type: 'sent', id: m.id, error: err.message }));
  } else if (m.cmd === 'stop') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
process.send!({ type: 'ready' });
