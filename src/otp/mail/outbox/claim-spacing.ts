/**
 * How often wake-ups may start a claim. The first wake-up after a quiet spell claims at once;
 * one within `intervalMs` of the last claim waits for the rest of that interval, and the mail
 * written meanwhile goes with it in one statement. A claim that comes back full is followed at
 * once (a backlog drains as fast as before): only wake-ups are spaced.
 *
 * Why: every mail written woke its own claim, a statement planned for its values each time
 * (its best plan depends on the backlog). At 300 issues a second that was 300 claims a second
 * beside the 300 issues, and the PostgreSQL work they took roughly doubled the issues' latency
 * (docs/performance.md, seventh sitting).
 */
export class ClaimSpacing {
  private lastStart = Number.NEGATIVE_INFINITY;
  private timer?: NodeJS.Timeout;
  private release?: () => void;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Undefined when a claim may start now; otherwise resolves once it may (or on `cancel`). */
  wait(): Promise<void> | undefined {
    const ms = this.lastStart + this.intervalMs - this.now();
    if (ms <= 0) return undefined;
    return new Promise<void>((resolve) => {
      this.release = resolve;
      this.timer = setTimeout(() => this.cancel(), ms);
      this.timer.unref();
    });
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
    release?.();
  }
}
