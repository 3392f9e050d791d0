import { StatsService } from './stats.service';

type Snapshot = { mailboxes: Record<string, { earlyRetries: number; deltaItems: number }> };

describe('StatsService', () => {
  const t0 = 1_000_000;

  it('counts a request sent again before its Retry-After ended, not one sent after it', () => {
    const stats = new StatsService();
    stats.begin('a@x.example')();
    stats.retryAfter('a@x.example', 'GET me/messages?', 2, t0);
    stats.arrived('a@x.example', 'GET me/messages?', t0 + 500);
    stats.retryAfter('a@x.example', 'GET me/messages?', 2, t0 + 600);
    stats.arrived('a@x.example', 'GET me/messages?', t0 + 2600);
    // another request, or the same one without a Retry-After pending, is not a retry
    stats.arrived('a@x.example', 'GET me/mailFolders?', t0 + 2700);
    stats.arrived('a@x.example', 'GET me/messages?', t0 + 2800);
    expect((stats.snapshot() as Snapshot).mailboxes['a@x.example'].earlyRetries).toBe(1);
  });

  it('keeps mailboxes apart and forgets everything on reset', () => {
    const stats = new StatsService();
    stats.retryAfter('a@x.example', 'GET me?', 1, t0);
    stats.arrived('b@x.example', 'GET me?', t0 + 10);
    stats.deltaServed('b@x.example', 7);
    const snap = stats.snapshot() as Snapshot;
    expect(snap.mailboxes['b@x.example']).toMatchObject({ earlyRetries: 0, deltaItems: 7 });
    stats.reset();
    stats.arrived('a@x.example', 'GET me?', t0 + 10);
    expect((stats.snapshot() as Snapshot).mailboxes['a@x.example']).toBeUndefined();
  });
});
