/** How a `GroupCommit` batches. */
export interface GroupCommitOptions<In, Out> {
  /** Statements in flight at once; inputs arriving while all are out wait and go together in the next. */
  slots: number;
  /** Inputs one statement takes at most. */
  maxBatch: number;
  /** Inputs of one key never share a batch: a later one waits for the next, and sees the earlier one's writes. */
  keyOf: (input: In) => string;
  /** Only inputs of the same settings share a batch (the statement takes them once). @default all alike */
  settingsOf?: (input: In) => string;
  /** Writes one batch in one statement; answers one outcome per input, in their order. */
  write: (batch: In[]) => Promise<Out[]>;
}

interface Waiting<In, Out> {
  input: In;
  resolve: (out: Out) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit of one kind of write: an input finding a slot free goes at once (a batch of one, no
 * added wait); while every slot is out, the inputs arriving wait, and the next free slot writes them
 * together, in arrival order, up to `maxBatch` (those of a key already in the batch, or of other
 * settings, wait for a later one). A failed statement fails the inputs of its batch. Under load this
 * turns a round trip per request into one per batch; alone, a request waits for nothing.
 */
export class GroupCommit<In, Out> {
  private readonly waiting: Waiting<In, Out>[] = [];
  private inFlight = 0;

  constructor(private readonly o: GroupCommitOptions<In, Out>) {}

  run(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    while (this.inFlight < this.o.slots && this.waiting.length > 0) {
      const batch = this.take();
      this.inFlight++;
      void this.write(batch).finally(() => {
        this.inFlight--;
        this.next();
      });
    }
  }

  /** The oldest waiting input and those after it of its settings, each key once. */
  private take(): Waiting<In, Out>[] {
    const settings = this.o.settingsOf?.(this.waiting[0].input);
    const keys = new Set<string>();
    const batch: Waiting<In, Out>[] = [];
    for (let i = 0; i < this.waiting.length && batch.length < this.o.maxBatch;) {
      const w = this.waiting[i];
      const key = this.o.keyOf(w.input);
      if (keys.has(key) || (settings !== undefined && this.o.settingsOf!(w.input) !== settings)) {
        i++;
        continue;
      }
      keys.add(key);
      batch.push(w);
      this.waiting.splice(i, 1);
    }
    return batch;
  }

  private async write(batch: Waiting<In, Out>[]): Promise<void> {
    let outs: Out[];
    try {
      outs = await this.o.write(batch.map((w) => w.input));
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => (i < outs.length ? w.resolve(outs[i]) : w.reject(new Error('group commit: the statement answered fewer rows than it was given'))));
  }
}
