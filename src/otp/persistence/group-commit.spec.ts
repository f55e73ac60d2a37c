import { GroupCommit } from './group-commit';

describe('GroupCommit', () => {
  it('fails every input of a statement that answers fewer rows than it was given', async () => {
    const batches: number[][] = [];
    const g = new GroupCommit<number, string>({ slots: 1, maxBatch: 10, keyOf: String, write: async (b) => (batches.push(b), b.slice(1).map(String)) });
    const outs = [1, 2, 3].map((n) => g.run(n).then((v) => v, (e: Error) => e.message));
    expect(await Promise.all(outs)).toEqual(['group commit: the statement answered fewer rows than it was given', '3', 'group commit: the statement answered fewer rows than it was given']);
    expect(batches).toEqual([[1], [2, 3]]);
  });

  it('keeps arrival order per key across batches, and takes other keys meanwhile', async () => {
    const batches: string[][] = [];
    const g = new GroupCommit<string, string>({ slots: 1, maxBatch: 10, keyOf: (s) => s[0], write: async (b) => (batches.push(b), b) });
    await Promise.all(['a1', 'a2', 'b1', 'a3', 'c1'].map((s) => g.run(s)));
    expect(batches).toEqual([['a1'], ['a2', 'b1', 'c1'], ['a3']]);
  });
});
