import { currentTestRun } from '@email-core/testing';
import { createDataSource } from '../data-source';
import type { MessageInput } from './mail-rows';
import { MessagesRepository, type AppliedPage } from './messages.repository';
import { insertTestAccount, testMail } from './testing/fixtures';

/**
 * `created` means arrival (docs/realtime.md): the page upsert on the run's real Postgres tells a message new to the
 * account from one that moved (a new id at IMAP, or the same id removed from its source folder first).
 */
describe('arrivals and moves in the page upsert (real Postgres)', () => {
  const run = currentTestRun();
  const dataSource = createDataSource({ url: run.databaseUrl, poolSize: 2 });
  const messages = new MessagesRepository(dataSource);
  const users: string[] = [];

  const newAccount = async (provider: 'imap' | 'outlook') => {
    const { user, account } = await insertTestAccount(dataSource, provider, [
      ['INBOX', 'inbox'],
      ['Archive', null],
      ['Sent', 'sentitems'],
      ['Drafts', 'drafts'],
    ]);
    users.push(user);
    return account;
  };

  let minute = 0;
  /** an IMAP mail (threaded by its headers), `mid` its Message-ID's local part (null: no Message-ID header) */
  const imapMail = (id: string, mid: string | null, overrides: Partial<MessageInput> = {}) =>
    testMail(id, new Date(Date.UTC(2026, 0, 1, 0, minute++)), {
      subject: `mail ${mid ?? id}`,
      internetMessageId: mid === null ? null : `<${mid}@example.test>`,
      ...overrides,
    });
  /** a Graph mail: the provider threads it (conversationId), its id is immutable */
  const graphMail = (id: string) =>
    imapMail(id, id, { conversationId: `conv-${id}`, inReplyTo: undefined, references: undefined });

  const apply = (account: string, folder: string, list: MessageInput[], removedIds: string[] = []) =>
    dataSource.transaction((m): Promise<AppliedPage> =>
      messages.applyPage(m, account, folder, { messages: list, removedIds }),
    );

  beforeAll(() => dataSource.initialize());
  afterAll(async () => {
    if (users.length > 0) await dataSource.query('DELETE FROM users WHERE id = ANY($1)', [users]);
    await dataSource.destroy();
  });

  it('an IMAP move seen from its destination first (a new UID while the old row is still mirrored) is no arrival', async () => {
    const account = await newAccount('imap');
    expect((await apply(account, 'Archive', [imapMail('A:1', 'm1')])).createdIds).toEqual(['A:1']);
    // moved into the Inbox by another client: a new UID there, the Archive's removal not seen yet
    const moved = await apply(account, 'INBOX', [imapMail('I:7', 'm1')]);
    expect(moved.upsertedIds).toEqual(['I:7']);
    expect(moved.createdIds).toEqual([]);
    expect((await apply(account, 'Archive', [], ['A:1'])).removedIds).toEqual(['A:1']);
    // a genuinely new mail in the same page as another move is still an arrival
    await apply(account, 'Archive', [imapMail('A:2', 'm2')]);
    const mixed = await apply(account, 'INBOX', [imapMail('I:8', 'm2'), imapMail('I:9', 'new-1')]);
    expect(mixed.upsertedIds.sort()).toEqual(['I:8', 'I:9']);
    expect(mixed.createdIds).toEqual(['I:9']);
  });

  it('an IMAP move seen from its source first (the old row removed, then the new UID listed) is no arrival', async () => {
    const account = await newAccount('imap');
    await apply(account, 'Archive', [imapMail('A:1', 'm1')]);
    await apply(account, 'Archive', [], ['A:1']);
    const removals: Array<{ remote_id: string; internet_message_id: string; outgoing: boolean }> =
      await dataSource.query(
        `SELECT remote_id, internet_message_id, outgoing FROM message_removals WHERE account_id = $1`,
        [account],
      );
    expect(removals).toEqual([
      { remote_id: 'A:1', internet_message_id: '<m1@example.test>', outgoing: false },
    ]);
    const moved = await apply(account, 'INBOX', [imapMail('I:1', 'm1')]);
    expect(moved.upsertedIds).toEqual(['I:1']);
    expect(moved.createdIds).toEqual([]);
  });

  it('a Graph move seen from its source first (the same immutable id removed, then listed again) is no arrival', async () => {
    const account = await newAccount('outlook');
    expect((await apply(account, 'Archive', [graphMail('g1')])).createdIds).toEqual(['g1']);
    await apply(account, 'Archive', [], ['g1']);
    const moved = await apply(account, 'INBOX', [graphMail('g1'), graphMail('g2')]);
    expect(moved.upsertedIds.sort()).toEqual(['g1', 'g2']);
    expect(moved.createdIds).toEqual(['g2']);
  });

  it('a message without a Message-ID is an arrival, unless its own id was removed', async () => {
    const account = await newAccount('imap');
    await apply(account, 'Archive', [imapMail('A:1', null)]);
    await apply(account, 'Archive', [], ['A:1']);
    // the same text under a new id, no Message-ID to tell it by: counted as new mail
    expect((await apply(account, 'INBOX', [imapMail('I:1', null)])).createdIds).toEqual(['I:1']);
    // its own id again (a provider with ids that survive a move): the same message
    expect((await apply(account, 'INBOX', [imapMail('A:1', null)])).createdIds).toEqual([]);
  });

  it("the user's own copies: a mail sent to oneself arrives although its Sent copy exists; a re-saved draft does not", async () => {
    const account = await newAccount('imap');
    expect((await apply(account, 'Sent', [imapMail('S:1', 'self', { isRead: true })])).createdIds).toEqual([
      'S:1',
    ]);
    // the delivered copy of the mail sent to oneself: new mail
    expect((await apply(account, 'INBOX', [imapMail('I:1', 'self')])).createdIds).toEqual(['I:1']);
    // a draft saved, then a new version (IMAP: a new UID, the same Message-ID), the old one expunged
    expect(
      (await apply(account, 'Drafts', [imapMail('D:1', 'draft', { isDraft: true })])).createdIds,
    ).toEqual(['D:1']);
    expect(
      (await apply(account, 'Drafts', [imapMail('D:2', 'draft', { isDraft: true })])).createdIds,
    ).toEqual([]);
    await apply(account, 'Drafts', [], ['D:1']);
    // the draft sent: it leaves Drafts, its copy lands in Sent (the same Message-ID): not an arrival either
    await apply(account, 'Drafts', [], ['D:2']);
    expect((await apply(account, 'Sent', [imapMail('S:2', 'draft', { isRead: true })])).createdIds).toEqual(
      [],
    );
    // and the copy delivered to the sender (it wrote to itself) is new mail in the Inbox
    expect((await apply(account, 'INBOX', [imapMail('I:2', 'draft')])).createdIds).toEqual(['I:2']);
  });

  it('a removal is remembered for a day: older ones are forgotten (and pruned with the next removal)', async () => {
    const account = await newAccount('imap');
    await apply(account, 'Archive', [imapMail('A:1', 'old'), imapMail('A:2', 'recent')]);
    await apply(account, 'Archive', [], ['A:1']);
    await dataSource.query(
      `UPDATE message_removals SET removed_at = now() - interval '25 hours' WHERE account_id = $1`,
      [account],
    );
    // a day later the same Message-ID again: the mirror no longer knows it, so it is new mail
    expect((await apply(account, 'INBOX', [imapMail('I:1', 'old')])).createdIds).toEqual(['I:1']);
    await apply(account, 'Archive', [], ['A:2']);
    const left: Array<{ remote_id: string }> = await dataSource.query(
      `SELECT remote_id FROM message_removals WHERE account_id = $1 ORDER BY remote_id`,
      [account],
    );
    expect(left.map((r) => r.remote_id)).toEqual(['A:2']);
  });

  it('a page of 1,000 moved messages and 1,000 new ones is told apart in one upsert', async () => {
    const account = await newAccount('imap');
    const n = 1000;
    const before = Array.from({ length: n }, (_, i) => imapMail(`A:${i}`, `bulk-${i}`));
    await apply(account, 'Archive', before.slice(0, 500));
    await apply(account, 'Archive', before.slice(500));
    // half of them seen leaving first, the other half still in the Archive when the Inbox lists them
    await apply(
      account,
      'Archive',
      [],
      before.slice(0, 500).map((m) => m.id),
    );
    const moved = Array.from({ length: n }, (_, i) => imapMail(`I:${i}`, `bulk-${i}`));
    const fresh = Array.from({ length: n }, (_, i) => imapMail(`I:new-${i}`, `fresh-${i}`));
    const started = Date.now();
    const page = await apply(account, 'INBOX', [...moved, ...fresh]);
    const ms = Date.now() - started;
    expect(page.upsertedIds).toHaveLength(2 * n);
    expect(page.createdIds.sort()).toEqual(fresh.map((m) => m.id).sort());
    expect(ms).toBeLessThan(10_000);
  });
});
