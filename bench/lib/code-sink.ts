/**
 * The soak's SMTP sink, in its own process: it reads each code from the message as a user
 * would and tells the harness (IPC `{ type: 'code', rcpt, code }`, or `{ type: 'unread' }`).
 * In the harness's process it shared one event loop with the open-loop load generator, so
 * each SMTP answer waited behind the requests being fired: the mail's latency, and with it the
 * dispatcher's throughput, was the harness's, not the app's.
 *  - sends `{ type: 'ready', port, caFile }`;
 *  - `{ cmd: 'stop' }` closes the sink and exits.
 */
import { startSmtpSink } from './mail-bench';

/* eslint-disable @typescript-eslint/no-require-imports */
const { simpleParser } = require('mailparser') as { simpleParser: (raw: Buffer) => Promise<{ text?: string }> };

async function main(): Promise<void> {
  const sink = await startSmtpSink({
    onMessage: (rcpt, raw) => {
      simpleParser(raw).then((m) => {
        const code = /:\s*(\d{6,10})\s*$/m.exec(m.text ?? '')?.[1];
        process.send!(code ? { type: 'code', rcpt: rcpt.toLowerCase(), code } : { type: 'unread' });
      }).catch(() => process.send!({ type: 'unread' }));
    },
  });
  process.on('message', (m: { cmd?: string }) => {
    if (m.cmd === 'stop') void sink.close().finally(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ type: 'ready', port: sink.port, caFile: sink.caFile });
}

main().catch((err: Error) => {
  process.stderr.write(`code sink failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
