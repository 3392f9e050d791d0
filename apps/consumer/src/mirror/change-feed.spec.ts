import type { MailChange, MailChanged } from '@email-core/contracts';
import { ChangeFeed, MAX_CHANGES_PER_EVENT } from './change-feed';

const ACCOUNT = {
  id: '7f0c1f7e-5d0a-4a53-9a53-2b8f7f9b8a11',
  userId: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
};
const changes = (from: number, n: number): MailChange[] =>
  Array.from({ length: n }, (_, i) => ({
    seq: from + i,
    kind: 'upserted',
    messageId: `m${from + i}`,
    folderId: 'f',
  }));

describe('ChangeFeed', () => {
  it('announces each commit in order, splitting one larger than the contract allows, seq = its last change', async () => {
    const sent: MailChanged[] = [];
    let release: () => void = () => undefined;
    const slow = new Promise<void>((r) => (release = r));
    const feed = new ChangeFeed(
      ACCOUNT,
      async (e) => {
        if (sent.length === 0) await slow; // the first send is slow: the second must still go after it
        sent.push(e);
      },
      { warn: () => undefined },
      '2026-01-01T00:00:00.000Z',
    );
    feed.announce(changes(1, MAX_CHANGES_PER_EVENT + 1), [{ folderId: 'f', totalCount: 3, unreadCount: 1 }]);
    feed.announce(changes(MAX_CHANGES_PER_EVENT + 2, 2), []);
    feed.announce([], []);
    release();
    await feed.drain();
    expect(sent.map((e) => [e.seq, e.changes.length, e.changes[0].seq])).toEqual([
      [MAX_CHANGES_PER_EVENT, MAX_CHANGES_PER_EVENT, 1],
      [MAX_CHANGES_PER_EVENT + 1, 1, MAX_CHANGES_PER_EVENT + 1],
      [MAX_CHANGES_PER_EVENT + 3, 2, MAX_CHANGES_PER_EVENT + 2],
    ]);
    expect(sent[0]).toMatchObject({
      type: 'mail.changed',
      accountId: ACCOUNT.id,
      userId: ACCOUNT.userId,
      notifiedAt: '2026-01-01T00:00:00.000Z',
      folders: [{ folderId: 'f', totalCount: 3, unreadCount: 1 }],
    });
    expect(feed.totals).toEqual({ changes: MAX_CHANGES_PER_EVENT + 3, lastSeq: MAX_CHANGES_PER_EVENT + 3 });
  });

  it('an event that cannot be published is logged, and the ones after it still go out', async () => {
    const warnings: string[] = [];
    const sent: number[] = [];
    const feed = new ChangeFeed(
      ACCOUNT,
      (e) => (e.seq === 1 ? Promise.reject(new Error('broker down')) : (sent.push(e.seq), Promise.resolve())),
      { warn: (m: string) => warnings.push(m) },
    );
    feed.announce(changes(1, 1), []);
    feed.announce(changes(2, 1), []);
    await feed.drain();
    expect(sent).toEqual([2]);
    expect(warnings).toEqual([expect.stringContaining('up to seq 1 not published: broker down')]);
  });
});
