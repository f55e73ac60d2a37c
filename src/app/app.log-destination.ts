import pino, { DestinationStream } from 'pino';

/** `LOG_FLUSH_MS` when unset: a line waits at most this long (a tenth of a second, below what a person tailing the log notices). */
export const LOG_FLUSH_MS_DEFAULT = 100;
const LOG_FLUSH_MS_MAX = 10_000;
/** Bytes gathered before a write without waiting for the timer: a few access lines, one syscall. */
const BUFFER_BYTES = 4096;

type Output = ReturnType<typeof pino.destination>;

/**
 * `LOG_FLUSH_MS`: the longest a log line waits in the buffer, in milliseconds (default 100);
 * `0` writes every line at once, synchronously.
 */
export function logFlushMs(env: NodeJS.ProcessEnv): number {
  const raw = env.LOG_FLUSH_MS;
  if (raw === undefined || raw.trim() === '') return LOG_FLUSH_MS_DEFAULT;
  const ms = /^\d{1,5}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!(ms <= LOG_FLUSH_MS_MAX)) {
    throw new Error(`LOG_FLUSH_MS must be an integer from 0 (write every line at once) to ${LOG_FLUSH_MS_MAX} milliseconds (got "${raw.slice(0, 20)}")`);
  }
  return ms;
}

/** Every buffered destination still open in this process: written out synchronously on exit. */
const OPEN = new Set<AppLogDestination>();
let exitHooked = false;

/**
 * Writes out, synchronously, every line the app's log destinations still hold. Runs on the
 * process's `exit` event by itself (process.exit(), an uncaught exception, the end of the event
 * loop); call it before writing to stderr what made the start fail, so the log lines come first.
 */
export function flushAppLogs(): void {
  for (const destination of OPEN) destination.flushSync();
}

/**
 * The example app's log lines, to a file descriptor (stdout): with `flushMs` 0, each line is
 * written before the log call returns; otherwise lines are gathered and written together, once
 * 4 kB are waiting or at the next tick of a `flushMs` timer, whichever comes first (so a line
 * waits at most `flushMs`).
 *
 * The batches are written asynchronously (sonic-boom with `sync: false` and `minLength`, as
 * pino's default destination writes, only in 4 kB batches): a synchronous write to a pipe whose
 * reader has fallen behind (a log shipper, a container runtime, the bench harness) gets EAGAIN,
 * and sonic-boom's sync mode then sleeps 100 ms on the event loop per retry: every request
 * stalls. Measured on 2026-12-01: with `sync: true` the bench's app, whose stdout the load
 * generator's process reads, fell from ~600 to ~140 code sign-ins a second and its verify p50 at
 * 300 req/s to seconds. Asynchronous, a full pipe only delays the lines (retried on a timer).
 * The price: on `exit`, the synchronous flush writes every queued line, but a batch the thread
 * pool is writing at that moment is left to it (normally a few microseconds; lost if the process
 * ends first). pino registers an exit flush only for the `sync: false` destinations it builds;
 * this one registers its own.
 */
export class AppLogDestination implements DestinationStream {
  private out: Output;
  private timer: NodeJS.Timeout | undefined;
  /** A line was logged since the last flush. */
  private dirty = false;
  /** A flush was asked for: sonic-boom ignores one while a batch is being written, so it is asked again once that batch is done. */
  private flushOnDrain = false;

  constructor(
    flushMs: number,
    private readonly fd = 1,
  ) {
    if (flushMs === 0) {
      this.out = pino.destination({ dest: fd, sync: true });
      return;
    }
    this.out = pino.destination({ dest: fd, sync: false, minLength: BUFFER_BYTES });
    // unref: a quiet process still exits when it has nothing else to do (the exit flush writes the rest).
    this.timer = setInterval(() => this.flush(), flushMs).unref();
    OPEN.add(this);
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', flushAppLogs);
    }
  }

  write(line: string): void {
    if (this.timer) this.dirty = true;
    this.out.write(line);
  }

  /** Writes what is buffered now (the timer's tick; pino's `logger.flush()`). */
  flush(cb?: (err?: Error) => void): void {
    try {
      // `flush` on an empty sonic-boom still issues a zero-byte write: skip it when nothing is waiting.
      if (this.timer && this.dirty) {
        this.dirty = false;
        this.out.flush();
        // While a batch is being written sonic-boom ignores a flush, and after that batch it writes
        // again only once 4 kB wait: ask once more when it is done, so no line waits for the next
        // tick (once: if nothing is left, that is one empty write, and no further drain is awaited).
        if (!this.flushOnDrain) {
          this.flushOnDrain = true;
          this.out.once('drain', () => {
            this.flushOnDrain = false;
            if (this.timer) this.out.flush();
          });
        }
      }
      cb?.();
    } catch (err) {
      if (cb) cb(err as Error);
      else throw err;
    }
  }

  /** Writes every buffered line before returning. */
  flushSync(): void {
    this.dirty = false;
    try {
      this.out.flushSync();
    } catch {
      // stdout gone (EPIPE) or closed: there is nowhere left to write to.
    }
  }

  /**
   * The app is shutting down: writes what is buffered and every later line at once (a
   * shutdown hook that runs after this one may still log, and Nest ends a SIGTERM by
   * re-raising the signal, which no exit handler survives).
   */
  async close(): Promise<void> {
    if (!this.timer) return;
    clearInterval(this.timer);
    // The batch being written finishes first (at most a second: a stalled stdout cannot hold the
    // shutdown), so that the lines written at once from here on come after it, in order.
    await new Promise<void>((resolve) => {
      const done = setTimeout(resolve, 1000);
      this.out.flush(() => {
        clearTimeout(done);
        resolve();
      });
    });
    this.timer = undefined;
    this.flushSync();
    OPEN.delete(this);
    this.out = pino.destination({ dest: this.fd, sync: true });
  }
}
