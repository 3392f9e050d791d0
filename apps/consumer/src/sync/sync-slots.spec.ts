import { SyncSlots } from './sync-slots';

describe('SyncSlots', () => {
  it('gives its slots at once, then to the waiting syncs in the order they asked', async () => {
    const slots = new SyncSlots(2);
    const a = slots.tryAcquire();
    const b = await slots.acquire(new AbortController().signal);
    expect(a).toBeDefined();
    expect(slots.tryAcquire()).toBeUndefined();
    const order: string[] = [];
    const c = slots.acquire(new AbortController().signal).then((r) => (order.push('c'), r));
    const d = slots.acquire(new AbortController().signal).then((r) => (order.push('d'), r));
    expect(slots.queued).toBe(2);
    b();
    b(); // a second release of the same slot gives nothing more
    const releaseC = await c;
    expect(order).toEqual(['c']);
    a?.();
    await d;
    expect(order).toEqual(['c', 'd']);
    releaseC();
    expect(slots.tryAcquire()).toBeDefined(); // c's slot is free again, d holds the other
    expect(slots.tryAcquire()).toBeUndefined();
  });

  it('a waiting sync whose signal aborts leaves the queue with the reason and takes no slot', async () => {
    const slots = new SyncSlots(1);
    const held = slots.tryAcquire();
    const stop = new AbortController();
    const waiting = slots.acquire(stop.signal);
    stop.abort(new Error('rebalance'));
    await expect(waiting).rejects.toThrow('rebalance');
    expect(slots.queued).toBe(0);
    held?.();
    expect(slots.tryAcquire()).toBeDefined();
  });

  it('lets a whole sync wait while first screens are written, and go on when the last is done', async () => {
    const slots = new SyncSlots(1);
    let finishA!: () => void;
    let finishB!: () => void;
    const a = slots.firstScreen(() => new Promise<void>((r) => (finishA = r)));
    const b = slots.firstScreen(() => new Promise<string>((r) => (finishB = () => r('b'))));
    expect(slots.firstScreens).toBe(2);
    let yielded = false;
    const wait = slots.yieldToFirstScreens(60_000, new AbortController().signal).then(() => (yielded = true));
    finishA();
    await a;
    await new Promise((r) => setImmediate(r));
    expect(yielded).toBe(false); // b is still being written
    finishB();
    await expect(b).resolves.toBe('b');
    await wait;
    expect(yielded).toBe(true);
    expect(slots.firstScreens).toBe(0);
    // with none being written, nothing waits
    await slots.yieldToFirstScreens(60_000, new AbortController().signal);
  });

  it('counts a first screen that fails as done, and passes its error on', async () => {
    const slots = new SyncSlots(1);
    await expect(slots.firstScreen(() => Promise.reject(new Error('graph down')))).rejects.toThrow(
      'graph down',
    );
    expect(slots.firstScreens).toBe(0);
  });

  it('while first screens are written, passes one waiting page per passMs for the whole process, oldest first, and none past an abort', async () => {
    jest.useFakeTimers();
    try {
      const slots = new SyncSlots(2);
      void slots.firstScreen(() => new Promise<void>(() => undefined)); // never done
      const passed: string[] = [];
      const wait = (name: string, signal = new AbortController().signal) =>
        slots.yieldToFirstScreens(3_000, signal).then(() => passed.push(name));
      const a = wait('a');
      await jest.advanceTimersByTimeAsync(1_000);
      const b = wait('b'); // another sync's page, asking later: its pass comes after a's
      const stop = new AbortController();
      const c = wait('c', stop.signal);
      await jest.advanceTimersByTimeAsync(1_999);
      expect(passed).toEqual([]);
      await jest.advanceTimersByTimeAsync(1);
      await a;
      expect(passed).toEqual(['a']); // one page per pass, not one per waiting page
      stop.abort(new Error('rebalance'));
      await c; // resolves at once: the caller's own signal check throws
      expect(passed).toEqual(['a', 'c']);
      await jest.advanceTimersByTimeAsync(2_999);
      expect(passed).toEqual(['a', 'c']);
      await jest.advanceTimersByTimeAsync(1);
      await b;
      expect(passed).toEqual(['a', 'c', 'b']);
      expect(jest.getTimerCount()).toBe(0); // nobody waits: no pass scheduled
    } finally {
      jest.useRealTimers();
    }
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => new SyncSlots(0)).toThrow(RangeError);
  });
});
