import { reconnectDelayMs } from './reconnect-backoff';

describe('reconnectDelayMs', () => {
  const opts = { baseMs: 1000, maxMs: 300_000 };

  it('doubles per attempt, half fixed and half random', () => {
    expect(reconnectDelayMs(0, opts, () => 0)).toBe(500);
    expect(reconnectDelayMs(0, opts, () => 1)).toBe(1000);
    expect(reconnectDelayMs(1, opts, () => 0)).toBe(1000);
    expect(reconnectDelayMs(1, opts, () => 1)).toBe(2000);
    expect(reconnectDelayMs(3, opts, () => 0.5)).toBe(6000);
  });

  it('never exceeds the cap and never drops below half of it once there', () => {
    for (const attempt of [9, 10, 20, 1000]) {
      expect(reconnectDelayMs(attempt, opts, () => 1)).toBe(300_000);
      expect(reconnectDelayMs(attempt, opts, () => 0)).toBe(150_000);
    }
  });

  it('spreads reconnects of connections dropped together (jitter)', () => {
    const delays = new Set(Array.from({ length: 50 }, () => reconnectDelayMs(4, opts)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(8000);
      expect(d).toBeLessThanOrEqual(16_000);
    }
  });

  it('treats a bad random or a negative attempt sanely', () => {
    expect(reconnectDelayMs(-3, opts, () => 5)).toBe(1000);
    expect(reconnectDelayMs(0, opts, () => -1)).toBe(500);
  });
});
