import { OutboxSignal } from './outbox-signal';

describe('OutboxSignal', () => {
  it('a notify wakes a waiting relay before its poll interval', async () => {
    const signal = new OutboxSignal();
    const t0 = Date.now();
    const waited = signal.wait(5000);
    signal.notify();
    await waited;
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('a notify that came while the relay was busy makes the next wait return at once, once', async () => {
    const signal = new OutboxSignal();
    signal.notify();
    const t0 = Date.now();
    await signal.wait(5000);
    expect(Date.now() - t0).toBeLessThan(100);
    const t1 = Date.now();
    await signal.wait(50);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(45);
  });
});
