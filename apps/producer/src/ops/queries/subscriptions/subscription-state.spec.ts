import { EXPIRING_SOON_MS, subscriptionState } from './subscription-state';

describe('subscriptionState', () => {
  const now = new Date('2025-01-01T12:00:00.000Z');
  const at = (ms: number) => new Date(now.getTime() + ms);

  it('active with more than an hour left', () => {
    expect(subscriptionState(at(3 * 24 * 3600 * 1000), now)).toBe('active');
    expect(subscriptionState(at(EXPIRING_SOON_MS), now)).toBe('active');
  });

  it('expiring soon within the last hour', () => {
    expect(subscriptionState(at(EXPIRING_SOON_MS - 1), now)).toBe('expiring_soon');
    expect(subscriptionState(at(1), now)).toBe('expiring_soon');
  });

  it('expired at and after its expiry', () => {
    expect(subscriptionState(now, now)).toBe('expired');
    expect(subscriptionState(at(-1000), now)).toBe('expired');
  });
});
