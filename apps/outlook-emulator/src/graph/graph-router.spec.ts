import { FaultsService } from '../faults/faults.service';
import { GraphError } from './graph-error';
import { GraphRouter, splitGraphPath } from './graph-router';
import { Throttle } from './throttle';

describe('GraphRouter', () => {
  it("treats mailFolders('x') and mailFolders/x alike and decodes segments", () => {
    expect(splitGraphPath("me/mailFolders('Inbox')/messages")).toEqual([
      'me',
      'mailFolders',
      'Inbox',
      'messages',
    ]);
    expect(splitGraphPath('me/mailFolders/AAMk%3D/messages/')).toEqual([
      'me',
      'mailFolders',
      'AAMk=',
      'messages',
    ]);
  });

  it('prefers literal segments, maps users/{id} onto me, and tells a wrong method from an unknown path', () => {
    const r = new GraphRouter();
    const h = () => ({ status: 200 });
    r.add('GET', 'me/mailFolders/:folder/messages/:id', h);
    r.add('GET', 'me/mailFolders/:folder/messages/delta', h);
    const m = r.match('GET', 'users/u%40x.example/mailfolders/inbox/messages/delta');
    expect(m).toMatchObject({
      params: { folder: 'inbox' },
      user: 'u@x.example',
      userPrefix: 'users/u%40x.example',
    });
    expect(typeof m === 'object' && m.route.segments.at(-1)).toBe('delta');
    expect(r.match('DELETE', 'me/mailFolders/inbox/messages/x')).toBe('method-not-allowed');
    expect(r.match('GET', 'me/calendar')).toBeUndefined();
  });
});

describe('Throttle', () => {
  it('admits 4 concurrent requests per app and mailbox, then answers 429 ApplicationThrottled', () => {
    const t = new Throttle(new FaultsService(true));
    const releases = [1, 2, 3, 4].map(() => t.admit('app', 'a@x'));
    expect(() => t.admit('app', 'a@x')).toThrow(GraphError);
    try {
      t.admit('app', 'a@x');
    } catch (e) {
      expect(e).toMatchObject({ status: 429, code: 'ApplicationThrottled', headers: { 'Retry-After': '1' } });
    }
    expect(() => t.admit('other-app', 'a@x')).not.toThrow();
    releases[0]();
    expect(() => t.admit('app', 'a@x')).not.toThrow();
  });

  it('enforces the request budget per window with a Retry-After until the window ends', () => {
    const faults = new FaultsService(true);
    faults.update({ throttling: { budget: 2, windowSeconds: 600 } });
    const t = new Throttle(faults);
    t.admit('app', 'b@x')();
    t.admit('app', 'b@x')();
    expect(() => t.admit('app', 'b@x')).toThrow(
      expect.objectContaining({ status: 429, code: 'TooManyRequests' }) as Error,
    );
  });

  it('admits everything when throttling is off', () => {
    const t = new Throttle(new FaultsService(false));
    const admitted = Array.from({ length: 20 }, () => t.admit('app', 'c@x'));
    expect(admitted).toHaveLength(20);
  });

  it("keeps Graph's subscription service limits per app and tenant: 1,000 writes and 5,000 requests per 20 s", () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const t = new Throttle(new FaultsService(true));
      for (let i = 0; i < 1000; i++) t.admitSubscriptionRequest('app', 'tenant-1', true);
      jest.advanceTimersByTime(5000);
      expect(() => t.admitSubscriptionRequest('app', 'tenant-1', true)).toThrow(
        expect.objectContaining({
          status: 429,
          code: 'TooManyRequests',
          headers: { 'Retry-After': '15' },
        }) as Error,
      );
      // reads still pass, and so do another tenant's and another app's writes
      expect(() => t.admitSubscriptionRequest('app', 'tenant-1', false)).not.toThrow();
      expect(() => t.admitSubscriptionRequest('app', 'tenant-2', true)).not.toThrow();
      expect(() => t.admitSubscriptionRequest('other-app', 'tenant-1', true)).not.toThrow();
      for (let i = 0; i < 4999; i++) t.admitSubscriptionRequest('app', 'tenant-2', false);
      expect(() => t.admitSubscriptionRequest('app', 'tenant-2', false)).toThrow(
        expect.objectContaining({ status: 429 }) as Error,
      );
      jest.advanceTimersByTime(15_000);
      expect(() => t.admitSubscriptionRequest('app', 'tenant-1', true)).not.toThrow();
      expect(t.subscriptionServiceStats()).toEqual({
        requests: 1000 + 1 + 1 + 1 + 4999 + 1,
        writes: 1000 + 1 + 1 + 1,
        throttled: 2,
        maxWritesInWindow: 1000,
      });
    } finally {
      jest.useRealTimers();
    }
  });

  it('admits every subscription request when its throttling is off', () => {
    const faults = new FaultsService(true);
    faults.update({ subscriptionThrottling: { enabled: false } });
    const t = new Throttle(faults);
    for (let i = 0; i < 1001; i++) t.admitSubscriptionRequest('app', 'tenant-1', true);
    expect(t.subscriptionServiceStats().throttled).toBe(0);
  });
});
