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

  it('refuses a size that is not a positive integer', () => {
    expect(() => new SyncSlots(0)).toThrow(RangeError);
  });
});
