/**
 * How often wake-ups may start a claim. A wake-up `intervalMs` or more after the last claim
 * (polls included) claims at once; one sooner waits for the rest of that interval, and the mail
 * written meanwhile goes with it in one statement. A claim that comes back full is followed at
 * once (a backlog drains as fast as before): only wake-ups are spaced. One waiter at a time:
 * a second `wait()` while one is pending gets the same promise.
 *
 * Why: every mail written woke its own claim, a statement planned for its values each time
 * (its best plan depends on the backlog). At 300 issues a second that was 300 claims a second
 * beside the 300 issues: PostgreSQL spent about 2.2 ms of CPU per issue, 1.0 with the claims
 * spaced (docs/performance.md, seventh sitting).
 */
export class ClaimSpacing {
  private lastStart = Number.NEGATIVE_INFINITY;
  private timer?: NodeJS.Timeout;
  private release?: () => void;
  private pending?: Promise<void>;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Undefined when a claim may start now; otherwise resolves once it may (or on `cancel`). */
  wait(): Promise<void> | undefined {
    const ms = this.lastStart + this.intervalMs - this.now();
    if (ms <= 0) return undefined;
    // Not unref'd: while a claim is held this timer is the dispatcher's only pending work (the poll
    // is cancelled), and a process with nothing else to do must not exit before the mail goes.
    this.pending ??= new Promise<void>((resolve) => {
      this.release = resolve;
      this.timer = setTimeout(() => this.cancel(), ms);
    });
    return this.pending;
  }

  /** A claim starts now. */
  started(): void {
    this.lastStart = this.now();
  }

  /** Lets a waiting claim go now (shutdown: it then finds the dispatcher stopped). */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const release = this.release;
    this.release = undefined;
    this.pending = undefined;
    release?.();
  }
}
