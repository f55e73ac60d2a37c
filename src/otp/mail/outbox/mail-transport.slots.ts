/**
 * The port's connections as slots: never more than `concurrency` messages with it; the
 * rest wait here in FIFO order, so the send timeout of each starts when it is handed over.
 */
export class MailTransportSlots {
  private taken = 0;
  private readonly queue: (() => void)[] = [];

  /** `limit`: the port's `concurrency`; a host's port may be a plain object without it (no limit then). */
  take(limit: number | undefined): Promise<void> {
    return this.wait(limit, 'last');
  }

  /** As `take`, but ahead of every message waiting (one that gave its slot up for a moment). */
  takeFirst(limit: number | undefined): Promise<void> {
    return this.wait(limit, 'first');
  }

  free(): void {
    const next = this.queue.shift();
    if (next) next(); // the slot passes straight to the next message
    else this.taken--;
  }

  private wait(limit: number | undefined, place: 'first' | 'last'): Promise<void> {
    if (!(typeof limit === 'number' && limit >= 1) || this.taken < limit) {
      this.taken++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => (place === 'first' ? this.queue.unshift(resolve) : this.queue.push(resolve)));
  }
}
