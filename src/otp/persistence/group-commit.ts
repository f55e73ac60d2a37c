import { refusedByServer } from '../core/database-unavailable';

/** How a `GroupCommit` batches. */
export interface GroupCommitOptions<In, Out> {
  /** Statements in flight at once; inputs arriving while all are out wait and go together in the next. */
  slots: number;
  /** Inputs one statement takes at most. */
  maxBatch: number;
  /**
   * Inputs of one key never share a batch (a statement sees each key once). Two of one key may still
   * run side by side in two slots, as two requests did before: the rows' locks decide between them.
   */
  keyOf: (input: In) => string;
  /** Only inputs of the same settings share a batch (the statement takes them once). @default all alike */
  settingsOf?: (input: In) => string;
  /** Writes one batch in one statement; answers one outcome per input, in their order. */
  write: (batch: In[]) => Promise<Out[]>;
}

interface Waiting<In, Out> {
  input: In;
  key: string;
  settings: string;
  resolve: (out: Out) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit of one kind of write: an input finding a slot free goes at once (a batch of one, no
 * added wait); while every slot is out, the inputs arriving wait, and the next free slot writes them
 * together, in arrival order, up to `maxBatch` (one of a key already in the batch, or of other
 * settings, waits for a later one). Under load this turns a round trip per request into one per batch;
 * alone, a request waits for nothing.
 *
 * A statement the server refuses (an error with a SQLSTATE) wrote nothing (one statement is atomic), so
 * such a failed batch of several is written again one input at a time: a deadlock between two batches,
 * or one input the database refuses, fails only the input it belongs to, as when each request had its
 * own statement. A batch that failed with no answer from the server (a connection lost mid-statement,
 * class 08), or as the server ended the connection (57P01-57P05, any FATAL or PANIC, or 40003: completion
 * unknown), may have been committed: it fails every input and is never written again.
 */
export class GroupCommit<In, Out> {
  private readonly waiting: Waiting<In, Out>[] = [];
  private inFlight = 0;

  constructor(private readonly o: GroupCommitOptions<In, Out>) {}

  run(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      // Computed here: a throwing key function rejects this input alone, never the queue.
      const key = this.o.keyOf(input);
      const settings = this.o.settingsOf?.(input) ?? '';
      this.waiting.push({ input, key, settings, resolve, reject });
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
    const { settings } = this.waiting[0];
    const keys = new Set<string>();
    const batch: Waiting<In, Out>[] = [];
    for (let i = 0; i < this.waiting.length && batch.length < this.o.maxBatch;) {
      const w = this.waiting[i];
      if (keys.has(w.key) || w.settings !== settings) {
        i++;
        continue;
      }
      keys.add(w.key);
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
      if (batch.length === 1 || !refusedByServer(err)) {
        for (const w of batch) w.reject(err);
        return;
      }
      // Nothing of the batch was written: each input again, in its own statement, one after another in this slot.
      for (const w of batch) await this.write([w]);
      return;
    }
    // A statement that answered but not one row per input may have written them: never written again.
    if (outs.length !== batch.length) {
      const err = new Error(`group commit: the statement answered ${outs.length} rows for ${batch.length} inputs`);
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => w.resolve(outs[i]));
  }
}
