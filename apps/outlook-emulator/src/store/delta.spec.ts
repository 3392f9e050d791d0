import { ActivityService } from '../admin/activity.service';
import { decodeDeltaToken, deltaPage, startRound, type DeltaState } from './delta';
import { MailboxStore } from './mailbox-store';
import type { FolderRecord, Mailbox } from './model';

interface Copy {
  /** folder id -> (immutable message id -> changeKey) */
  folders: Map<string, Map<string, string>>;
  tokens: Map<string, DeltaState>;
}

/** runs one delta round for a folder, paging to the end, applying every item to the copy */
function syncFolder(folder: FolderRecord, copy: Copy, pageSize: number, between?: () => void): number {
  const mine = copy.folders.get(folder.id) ?? new Map<string, string>();
  copy.folders.set(folder.id, mine);
  const prev = copy.tokens.get(folder.id);
  let state: DeltaState | undefined = startRound(folder.mailbox, folder, prev?.upto ?? 0, null);
  let items = 0;
  while (state) {
    const page = deltaPage(folder, state, pageSize);
    for (const item of page.items) {
      items++;
      if (item.kind === 'message') mine.set(item.message.immutableId, item.message.changeKey);
      else mine.delete(item.removal.message.immutableId);
    }
    if (!page.next) copy.tokens.set(folder.id, state);
    state = page.next;
    between?.();
  }
  return items;
}

function truth(store: MailboxStore, mailbox: Mailbox): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const f of store.allFolders(mailbox)) {
    const m = new Map<string, string>();
    for (const msg of f.messages) m.set(msg.immutableId, msg.changeKey);
    out.set(f.id, m);
  }
  return out;
}

function asSorted(map: Map<string, Map<string, string>>): [string, [string, string][]][] {
  return [...map.entries()]
    .map(([k, v]) => [k, [...v.entries()].sort()] as [string, [string, string][]])
    .sort((a, b) => a[0].localeCompare(b[0]));
}

describe('message delta', () => {
  it('seeds deterministically: the same seed gives the same mailbox', () => {
    const a = new MailboxStore().createMailbox({ address: 'a@x.example', seed: { messages: 500, seed: 7 } });
    const b = new MailboxStore().createMailbox({ address: 'a@x.example', seed: { messages: 500, seed: 7 } });
    const store = new MailboxStore();
    const subjects = (m: Mailbox) =>
      m.messages.map((msg) =>
        msg ? `${msg.folder.displayName}:${store.content(msg).subject}:${msg.isRead}` : '',
      );
    expect(subjects(a)).toEqual(subjects(b));
    const folders = new Set(a.messages.map((m) => m?.folder.displayName));
    expect(folders.size).toBeGreaterThanOrEqual(6);
    expect(a.wellKnown.get('inbox')!.children.map((c) => c.displayName)).toContain('Projects');
  });

  it('an initial round pages through every message of a folder exactly once', () => {
    const store = new MailboxStore();
    const mb = store.createMailbox({ address: 'b@x.example', seed: { messages: 2000, seed: 3 } });
    const inbox = mb.wellKnown.get('inbox')!;
    const copy: Copy = { folders: new Map(), tokens: new Map() };
    const items = syncFolder(inbox, copy, 37);
    expect(items).toBe(inbox.messages.size);
    expect(copy.folders.get(inbox.id)!.size).toBe(inbox.messages.size);
  });

  it('incremental delta after random creates, updates, moves and deletes reproduces the mailbox exactly', async () => {
    const store = new MailboxStore();
    const activity = new ActivityService(store);
    const mb = store.createMailbox({ address: 'c@x.example', seed: { messages: 3000, seed: 11 } });
    const copy: Copy = { folders: new Map(), tokens: new Map() };
    // changes land while the first round is still paging, too
    let n = 0;
    for (const f of store.allFolders(mb)) {
      syncFolder(f, copy, 50, () => {
        if (n++ % 3 === 0) activity.start(mb, { creates: 2, updates: 3, moves: 2, deletes: 1, seed: n });
      });
    }
    await activity.start(mb, { creates: 300, updates: 400, moves: 250, deletes: 150, seed: 99 }).finished;
    for (let round = 0; round < 2; round++) for (const f of store.allFolders(mb)) syncFolder(f, copy, 64);
    expect(asSorted(copy.folders)).toEqual(asSorted(truth(store, mb)));
  });

  it('delta tokens are opaque state that round-trips', () => {
    const store = new MailboxStore();
    const mb = store.createMailbox({ address: 'd@x.example', seed: { messages: 10 } });
    const s = startRound(mb, mb.wellKnown.get('inbox')!, 0, 'subject,isRead');
    expect(
      decodeDeltaToken(Buffer.from(JSON.stringify([1, 2, 3, 4, 5, 6, null])).toString('base64url')),
    ).toMatchObject({ since: 4 });
    expect(decodeDeltaToken('not-a-token')).toBeUndefined();
    expect(s.select).toBe('subject,isRead');
  });
});
