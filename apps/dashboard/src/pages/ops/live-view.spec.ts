import { describe, expect, it } from '@jest/globals';
import { formatLatency, formatRate, plural, sparklinePoints, syncRateGap, windowText } from './live-view';

describe('the Ops page’s live panel (GET /ops/live)', () => {
  it('writes rates and latencies in a unit a person reads at a glance', () => {
    expect(formatRate(null)).toBe('—');
    expect(formatRate(0)).toBe('0 msg/s');
    expect(formatRate(0.44)).toBe('0.4 msg/s');
    expect(formatRate(1249.6)).toBe('1,250 msg/s');
    expect(formatLatency(null)).toBe('—');
    expect(formatLatency(0.0001)).toBe('1 ms');
    expect(formatLatency(0.0424)).toBe('42 ms');
    expect(formatLatency(2.5)).toBe('2.5 s');
    expect(plural(1, 'answer', 'answers')).toBe('1 answer');
    expect(plural(1200, 'answer', 'answers')).toBe('1,200 answers');
    expect(windowText({ windowSeconds: 0 })).toBe('measuring…');
    expect(windowText({ windowSeconds: 54.6 })).toBe('last 55 s');
  });

  it('says why the sync rate has no figure', () => {
    const consumer = { url: 'http://127.0.0.1:3001', reachable: true, error: null };
    expect(syncRateGap({ syncMessagesPerSecond: 3, consumers: [consumer] })).toBeNull();
    expect(syncRateGap({ syncMessagesPerSecond: null, consumers: [] })).toMatch(/OPS_CONSUMER_METRICS_URLS/);
    expect(
      syncRateGap({
        syncMessagesPerSecond: null,
        consumers: [{ ...consumer, reachable: false, error: 'GET /metrics answered 401' }],
      }),
    ).toBe('the consumer not reachable');
    expect(syncRateGap({ syncMessagesPerSecond: null, consumers: [consumer] })).toBe('measuring…');
  });

  it('draws a sparkline with the largest value at the top, flat at the bottom when all are 0', () => {
    expect(sparklinePoints([0, 5, 10], 100, 20)).toBe('0,20 50,10 100,0');
    expect(sparklinePoints([0, 0], 100, 20)).toBe('0,20 100,20');
    expect(sparklinePoints([], 100, 20)).toBe('');
  });
});
