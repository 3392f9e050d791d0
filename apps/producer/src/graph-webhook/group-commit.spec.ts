import { GroupCommit } from './group-commit';

describe('GroupCommit', () => {
  const deferred = () => {
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };

  it('sends a lone request at once, and what arrives meanwhile together in the next send', async () => {
    const sends: Array<{ items: number[]; done: ReturnType<typeof deferred> }> = [];
    const gc = new GroupCommit<number>(
      (items) => {
        const done = deferred();
        sends.push({ items, done });
        return done.promise;
      },
      { maxBatchBytes: 1000 },
    );
    const settled: number[] = [];
    const first = gc.add([1], 10).then(() => settled.push(1));
    expect(sends.map((s) => s.items)).toEqual([[1]]);
    const second = gc.add([2, 3], 10).then(() => settled.push(2));
    const third = gc.add([4], 10).then(() => settled.push(3));
    expect(sends).toHaveLength(1);
    sends[0].done.resolve();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(sends.map((s) => s.items)).toEqual([[1], [2, 3, 4]]);
    expect(settled).toEqual([1]);
    sends[1].done.resolve();
    await Promise.all([second, third]);
    expect(settled).toEqual([1, 2, 3]);
  });

  it('rejects exactly the callers whose send failed', async () => {
    let calls = 0;
    const gc = new GroupCommit<string>(
      (items) => {
        calls += 1;
        return items.includes('bad') ? Promise.reject(new Error('broker down')) : Promise.resolve();
      },
      { maxBatchBytes: 1000 },
    );
    const a = gc.add(['bad'], 1);
    const b = gc.add(['ok'], 1);
    await expect(a).rejects.toThrow('broker down');
    await expect(b).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });

  it('splits by the byte budget, sending an oversized entry alone', async () => {
    const sends: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const gc = new GroupCommit<number>(
      async (items) => {
        sends.push(items);
        if (sends.length === 1) await gate;
      },
      { maxBatchBytes: 100 },
    );
    const sizes = [1, 60, 30, 500, 10, 10];
    const all = sizes.map((bytes, i) => gc.add([i], bytes));
    release();
    await Promise.all(all);
    expect(sends).toEqual([[0], [1, 2], [3], [4, 5]]);
  });

  it('answers an empty request without sending', async () => {
    const send = jest.fn(() => Promise.resolve());
    await new GroupCommit<number>(send, { maxBatchBytes: 10 }).add([], 0);
    expect(send).not.toHaveBeenCalled();
  });
});
