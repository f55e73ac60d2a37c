import { GroupCommit } from './group-commit';

/** A one-slot group commit of strings, each its own key, recording its batches: `refuse` throws for a batch the "database" refuses, else each input is answered in upper case. */
function recording(refuse: (batch: string[]) => void) {
  const batches: string[][] = [];
  const g = new GroupCommit<string, string>({
    slots: 1, maxBatch: 10, keyOf: (s) => s,
    write: async (b) => {
      batches.push(b);
      refuse(b);
      return b.map((s) => s.toUpperCase());
    },
  });
  return { g, batches };
}

describe('GroupCommit', () => {
  it('fails every input of a statement that answers another number of rows than it was given, and writes none of them again', async () => {
    const batches: number[][] = [];
    const g = new GroupCommit<number, string>({ slots: 1, maxBatch: 10, keyOf: String, write: async (b) => (batches.push(b), b.slice(1).map(String)) });
    const outs = [1, 2, 3].map((n) => g.run(n).then((v) => v, (e: Error) => e.message));
    expect(await Promise.all(outs)).toEqual([
      'group commit: the statement answered 0 rows for 1 inputs',
      'group commit: the statement answered 1 rows for 2 inputs', 'group commit: the statement answered 1 rows for 2 inputs',
    ]);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('keeps arrival order per key across batches, and takes other keys meanwhile', async () => {
    const batches: string[][] = [];
    const g = new GroupCommit<string, string>({ slots: 1, maxBatch: 10, keyOf: (s) => s[0], write: async (b) => (batches.push(b), b) });
    await Promise.all(['a1', 'a2', 'b1', 'a3', 'c1'].map((s) => g.run(s)));
    expect(batches).toEqual([['a1'], ['a2', 'b1', 'c1'], ['a3']]);
  });

  it('a failed batch of several is written again one input at a time: only the input the database refuses fails (a deadlock victim: all succeed)', async () => {
    let deadlocks = 1;
    const { g, batches } = recording((b) => {
      if (b.length > 1 && deadlocks-- > 0) throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      if (b.includes('poison')) throw Object.assign(new Error('value out of range'), { code: '22003' });
    });
    const first = g.run('first');
    const rest = ['a', 'b', 'c'].map((s) => g.run(s)); // these and the next three wait for the slot: one batch of six, the deadlock's victim
    const poisoned = [g.run('first-again'), g.run('poison'), g.run('d')];
    expect(await first).toBe('FIRST');
    expect(await Promise.all(rest)).toEqual(['A', 'B', 'C']);
    expect(await Promise.allSettled(poisoned)).toEqual([
      { status: 'fulfilled', value: 'FIRST-AGAIN' }, { status: 'rejected', reason: expect.objectContaining({ message: 'value out of range' }) }, { status: 'fulfilled', value: 'D' },
    ]);
    expect(batches).toEqual([['first'], ['a', 'b', 'c', 'first-again', 'poison', 'd'], ['a'], ['b'], ['c'], ['first-again'], ['poison'], ['d']]);
  });

  it('a batch that failed with no answer from the server, or as the server ended the connection (57P0x), fails every input and is never written again (it may have committed)', async () => {
    // A socket error's code (EPIPE, ECONNRESET) is not a SQLSTATE: the server may have run the statement.
    const socket = (code: string) => Object.assign(new Error(`write ${code}`), { code, errno: -32, syscall: 'write' });
    // A backend told to stop (57P01 administrator command, 57P02 crash of another backend, 57P03 cannot connect now)
    // ends its connection with a FATAL error, which may come after the statement committed.
    const ended = (code: string) => Object.assign(new Error('terminating connection due to administrator command'), { code, severity: 'FATAL' });
    for (const lost of [new Error('Connection terminated unexpectedly'), Object.assign(new Error('connection failure'), { code: '08006' }),
      socket('EPIPE'), socket('EBADF'), { driverError: socket('EPIPE'), message: 'query failed' },
      ended('57P01'), ended('57P02'), ended('57P03'), ended('57P04'), ended('57P05'), { driverError: ended('57P01'), message: 'query failed' },
      // Any FATAL or PANIC (a PANIC after the commit record: "cannot abort transaction, it was already committed"),
      // and 40003, whose name says the outcome is unknown.
      Object.assign(new Error('cannot abort transaction 812, it was already committed'), { code: 'XX000', severity: 'PANIC' }),
      Object.assign(new Error('terminating connection'), { code: '42601', severity: 'FATAL' }),
      Object.assign(new Error('statement completion unknown'), { code: '40003', severity: 'ERROR' })]) {
      const { g, batches } = recording((b) => {
        if (b.length > 1) throw lost;
      });
      const outs = await Promise.allSettled(['first', 'a', 'b'].map((s) => g.run(s)));
      expect(outs).toEqual([{ status: 'fulfilled', value: 'FIRST' }, { status: 'rejected', reason: lost }, { status: 'rejected', reason: lost }]);
      expect(batches).toEqual([['first'], ['a', 'b']]);
    }
  });

  it('a key function that throws rejects its own input, and the queue goes on', async () => {
    const g = new GroupCommit<string, string>({
      slots: 1, maxBatch: 10, keyOf: (s) => { if (s === 'bad') throw new TypeError('no key'); return s; }, write: async (b) => b,
    });
    const outs = await Promise.allSettled([g.run('x'), g.run('bad'), g.run('y')]);
    expect(outs.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});
