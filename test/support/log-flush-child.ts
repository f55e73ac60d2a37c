/**
 * A process that logs through the example app's stdout destination, then ends one way
 * (test/app-log-flush.e2e-spec.ts): `node -r ts-node/register/transpile-only log-flush-child.ts <ending> <lines>`.
 * LOG_FLUSH_MS comes from the environment; each line is `{ "i": <n>, "msg": "line" }`.
 */
import pino from 'pino';
import { AppLogDestination, logFlushMs } from '../../src/app/app.log-destination';

const [ending, count] = process.argv.slice(2);
const destination = new AppLogDestination(logFlushMs(process.env));
const logger = pino({ base: undefined, timestamp: false }, destination);
// Self-stopping: a child the test forgot would end on its own.
setTimeout(() => process.exit(70), 30_000).unref();

for (let i = 0; i < Number(count); i++) logger.info({ i, pad: 'x'.repeat(40) }, 'line');

switch (ending) {
  case 'exit': // process.exit() right after logging
    process.exit(0);
    break;
  case 'throw': // an uncaught exception
    setImmediate(() => {
      throw new Error('thrown after logging');
    });
    break;
  case 'reject': // an unhandled rejection (Node's default: an uncaught exception)
    void Promise.reject(new Error('rejected after logging'));
    break;
  case 'drain': // nothing left to do: the event loop ends (the flush timer does not hold it)
    break;
  case 'close-then-sigterm': // the app closing, a line from a later shutdown hook, Nest re-raising SIGTERM
    void destination.close().then(() => {
      logger.info({ i: Number(count) }, 'line');
      process.kill(process.pid, 'SIGTERM');
    });
    break;
  case 'stalled-reader': {
    // The test stops reading stdout: the pipe fills. Touching process.stdout makes the pipe
    // non-blocking, as in the example app (Nest prints through it). The loop must keep running:
    // keep logging for a second, then say on stderr how many ticks ran and end.
    void process.stdout;
    let ticks = 0;
    const started = Date.now();
    const logging = setInterval(() => {
      ticks++;
      for (let k = 0; k < 20; k++) logger.info({ i: ticks * 20 + k, pad: 'x'.repeat(200) }, 'line');
    }, 2);
    setTimeout(() => {
      clearInterval(logging);
      process.stderr.write(`ticks ${ticks} in ${Date.now() - started} ms\n`);
      process.exit(0);
    }, 1000);
    break;
  }
  case 'sigkill': // a hard kill: what is buffered is lost (the documented trade-off)
    process.kill(process.pid, 'SIGKILL');
    break;
  default:
    throw new Error(`unknown ending "${ending}"`);
}
