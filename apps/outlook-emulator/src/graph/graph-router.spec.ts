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
});
