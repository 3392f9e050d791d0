import { PageWriters } from './page-writers';

/** A write whose statements and commit the test releases by hand, logging what happens in order. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('PageWriters', () => {
  it('runs two pages at once but commits them in order', async () => {
    const log: string[] = [];
    const writers = new PageWriters(2);
    const firstStatements = deferred();
    await writers.write(['a'], async (afterPrevious) => {
      log.push('1:statements');
      await firstStatements.promise;
      await afterPrevious();
      log.push('1:commit');
    });
    await writers.write(['b'], async (afterPrevious) => {
      log.push('2:statements');
      await afterPrevious();
      log.push('2:commit');
    });
    await tick();
    // the second page's statements ran while the first is still open; its commit waits
    expect(log).toEqual(['1:statements', '2:statements']);
    firstStatements.resolve();
    await writers.drain();
    expect(log).toEqual(['1:statements', '2:statements', '1:commit', '2:commit']);
  });

  it('holds a third page until one of two in flight is done', async () => {
    const writers = new PageWriters(2);
    const gate = deferred();
    const started: number[] = [];
    const write = (n: number) =>
      writers.write([String(n)], async (afterPrevious) => {
        started.push(n);
        await gate.promise;
        await afterPrevious();
      });
    await write(1);
    await write(2);
    const third = write(3);
    await tick();
    expect(started).toEqual([1, 2]);
    gate.resolve();
    await third;
    await writers.drain();
    expect(started).toEqual([1, 2, 3]);
  });

  it('starts a page that lists a message of a page in flight only after that page is done', async () => {
    const log: string[] = [];
    const writers = new PageWriters(3);
    const gate = deferred();
    await writers.write(['a', 'b'], async (afterPrevious) => {
      log.push('1:start');
      await gate.promise;
      await afterPrevious();
      log.push('1:done');
    });
    const second = writers.write(['c', 'b'], async (afterPrevious) => {
      log.push('2:start');
      await afterPrevious();
      log.push('2:done');
    });
    await tick();
    expect(log).toEqual(['1:start']);
    gate.resolve();
    await second;
    await writers.drain();
    expect(log).toEqual(['1:start', '1:done', '2:start', '2:done']);
  });

  it('fails every later page after a failure, and drain rethrows it', async () => {
    const writers = new PageWriters(2);
    const gate = deferred();
    let secondCommitted = false;
    await writers.write(['a'], async () => {
      await gate.promise;
      throw new Error('page 1 failed');
    });
    await writers.write(['b'], async (afterPrevious) => {
      await afterPrevious();
      secondCommitted = true;
    });
    gate.resolve();
    await expect(writers.drain()).rejects.toThrow('page 1 failed');
    expect(secondCommitted).toBe(false);
    expect(() => writers.throwIfFailed()).toThrow('page 1 failed');
    await expect(writers.write(['c'], () => Promise.resolve())).rejects.toThrow('page 1 failed');
  });

  it('with one writer, a page is written before write returns', async () => {
    const writers = new PageWriters(1);
    let done = false;
    await writers.write(['a'], async (afterPrevious) => {
      await afterPrevious();
      await tick();
      done = true;
    });
    expect(done).toBe(true);
  });
});
