import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { EntityManager } from 'typeorm';
import { runWithCorrelation } from '@email-core/logging';
import { currentTestRun } from '@email-core/testing';
import { createDataSource } from './data-source';
import { runMigrationsLocked } from './migrate';
import { migrations } from './migrations';
import { MailFoldersRepository, type FolderCountsRow } from './mail/mail-folders.repository';
import type { MessageInput } from './mail/mail-rows';
import { MessagesRepository, type AppliedPage } from './mail/messages.repository';
import { OutboxRepository } from './outbox/outbox.repository';

describe('Postgres (real server, migrated schema)', () => {
  const run = currentTestRun();
  const dataSource = createDataSource({ url: run.databaseUrl, poolSize: 4 });
  const outbox = new OutboxRepository(dataSource);
  const messages = new MessagesRepository(dataSource);
  const folders = new MailFoldersRepository(dataSource);

  /** a user with one mail account, to hang folders and messages on (deleting the user removes it all) */
  const newAccount = async () => {
    const user = randomUUID();
    const account = randomUUID();
    await dataSource.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')`, [
      user,
      `${user}@example.test`,
    ]);
    await dataSource.query(
      `INSERT INTO mail_accounts (id, user_id, external_user_id, email) VALUES ($1, $2, 'ext', $3)`,
      [account, user, `${account}@example.test`],
    );
    return { user, account };
  };

  beforeAll(() => dataSource.initialize());
  afterAll(() => dataSource.destroy());

  it('the run database was migrated by the global setup, and synchronize is off', async () => {
    const rows: Array<{ name: string }> = await dataSource.query('SELECT name FROM migrations ORDER BY id');
    expect(rows.map((r) => r.name)).toEqual(migrations.map((m) => m.name));
    expect(dataSource.options.synchronize).toBe(false);
  });

  it('writes and reads the outbox inside a transaction, and a rollback leaves nothing', async () => {
    const ids = await dataSource.transaction((m) =>
      outbox.append(m, [
        {
          topic: 't',
          key: 'acct-1',
          type: 'sync.requested',
          payload: { v: 1, accountId: 'acct-1', note: "it's" },
        },
        { topic: 't', key: 'acct-2', type: 'sync.requested', payload: { v: 1, accountId: 'acct-2' } },
      ]),
    );
    expect(ids).toHaveLength(2);
    await expect(
      dataSource.transaction(async (m) => {
        await outbox.append(m, [{ topic: 't', key: 'acct-3', type: 'x', payload: { v: 1 } }]);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');

    const pending = await outbox.findPending(100);
    expect(pending.filter((p) => ids.includes(p.id)).map((p) => p.payload)).toEqual([
      { v: 1, accountId: 'acct-1', note: "it's" },
      { v: 1, accountId: 'acct-2' },
    ]);
    expect(pending.some((p) => p.key === 'acct-3')).toBe(false);

    await outbox.markPublished(ids);
    expect((await outbox.findPending(100)).filter((p) => ids.includes(p.id))).toEqual([]);
  });

  it("keeps each outbox row's correlation id (its own, else the writing work's, else none) for the relay", async () => {
    const ids = await runWithCorrelation('req-outbox-1', () =>
      dataSource.transaction((m) =>
        outbox.append(m, [
          { topic: 't', key: 'c-1', type: 'x', payload: { v: 1 } },
          { topic: 't', key: 'c-2', type: 'x', payload: { v: 1 }, correlationId: 'req-explicit' },
        ]),
      ),
    );
    ids.push(
      ...(await dataSource.transaction((m) =>
        outbox.append(m, [{ topic: 't', key: 'c-3', type: 'x', payload: { v: 1 } }]),
      )),
    );
    const pending = (await outbox.findPending(1000)).filter((p) => ids.includes(p.id));
    expect(pending.map((p) => [p.key, p.correlationId])).toEqual([
      ['c-1', 'req-outbox-1'],
      ['c-2', 'req-explicit'],
      ['c-3', undefined],
    ]);
    const claimed: Array<[string, string | undefined]> = [];
    await outbox.publishPending(1000, (rows) => {
      const ours = rows.filter((r) => ids.includes(r.id));
      claimed.push(...ours.map((r): [string, string | undefined] => [r.key, r.correlationId]));
      return Promise.resolve({ published: ours.map((r) => r.id), failed: [], rejected: [] });
    });
    expect(claimed).toEqual([
      ['c-1', 'req-outbox-1'],
      ['c-2', 'req-explicit'],
      ['c-3', undefined],
    ]);
  });

  it('several processes migrating one fresh database at once apply each migration exactly once', async () => {
    const name = `${run.databaseName}_mig`;
    const admin = new Client({ connectionString: run.adminDatabaseUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    const url = new URL(run.databaseUrl);
    url.pathname = `/${name}`;
    const sources = Array.from({ length: 4 }, () => createDataSource({ url: url.toString(), poolSize: 2 }));
    try {
      await Promise.all(sources.map((s) => s.initialize()));
      const applied = await Promise.all(sources.map((s) => runMigrationsLocked(s)));
      expect(applied.flat()).toEqual(migrations.map((m) => m.name));
      const rows: Array<{ n: string }> = await sources[0].query('SELECT count(*) AS n FROM migrations');
      expect(Number(rows[0].n)).toBe(migrations.length);
    } finally {
      await Promise.all(sources.filter((s) => s.isInitialized).map((s) => s.destroy()));
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    }
  });

  it("upserts one folder (a first screen's Inbox) and drops none of the others; answers whether it changed", async () => {
    const { user, account } = await newAccount();
    try {
      const inbox = { id: 'inbox-1', parentFolderId: null, displayName: 'Inbox', wellKnownName: 'inbox' };
      await folders.upsertFolders(account, [
        { id: 'other', parentFolderId: null, displayName: 'Other', wellKnownName: null },
      ]);
      await dataSource.query(`UPDATE mail_folders SET cursor = 'kept' WHERE account_id = $1`, [account]);
      expect(await folders.upsertFolder(account, inbox)).toBe(true);
      expect(await folders.upsertFolder(account, inbox)).toBe(false); // the same row: nothing changed
      expect(await folders.upsertFolder(account, { ...inbox, displayName: 'Boîte' })).toBe(true);
      const rows: Array<{
        remote_id: string;
        display_name: string;
        well_known_name: string | null;
        cursor: string | null;
      }> = await dataSource.query(
        `SELECT remote_id, display_name, well_known_name, cursor FROM mail_folders WHERE account_id = $1 ORDER BY remote_id`,
        [account],
      );
      expect(rows).toEqual([
        { remote_id: 'inbox-1', display_name: 'Boîte', well_known_name: 'inbox', cursor: null },
        { remote_id: 'other', display_name: 'Other', well_known_name: null, cursor: 'kept' },
      ]);
    } finally {
      await dataSource.query(`DELETE FROM users WHERE id = $1`, [user]);
    }
  });

  it('a removal whose message is known to be in another kept folder moves it there; any other is removed', async () => {
    const { user, account } = await newAccount();
    for (const f of ['inbox', 'archive']) {
      await dataSource.query(
        `INSERT INTO mail_folders (account_id, remote_id, display_name) VALUES ($1, $2, $2)`,
        [account, f],
      );
    }
    const put = (id: string, folder: string) =>
      dataSource.query(
        `INSERT INTO messages (account_id, remote_id, folder_remote_id, change_key, received_at)
         VALUES ($1, $2, $3, 'ck', now())`,
        [account, id, folder],
      );
    await put('moved', 'inbox');
    await put('to-unknown', 'inbox');
    await put('deleted', 'inbox');
    await put('already-moved', 'archive');

    const applied = await dataSource.transaction((m) =>
      messages.applyPage(
        m,
        account,
        'inbox',
        { messages: [], removedIds: ['moved', 'to-unknown', 'deleted', 'already-moved'] },
        new Map([
          ['moved', 'archive'],
          ['to-unknown', 'a-folder-the-mirror-does-not-keep'],
          ['already-moved', 'archive'],
        ]),
      ),
    );
    expect(applied.relocated).toEqual([{ id: 'moved', folderId: 'archive' }]);
    expect(applied.removedIds.sort()).toEqual(['deleted', 'to-unknown']);
    const rows: Array<{ remote_id: string; folder_remote_id: string }> = await dataSource.query(
      `SELECT remote_id, folder_remote_id FROM messages WHERE account_id = $1 ORDER BY remote_id`,
      [account],
    );
    expect(rows).toEqual([
      { remote_id: 'already-moved', folder_remote_id: 'archive' },
      { remote_id: 'moved', folder_remote_id: 'archive' },
    ]);
    await dataSource.query('DELETE FROM users WHERE id = $1', [user]);
  });

  it('keeps folder counts exact by the changes of each page, in its transaction, whatever the change', async () => {
    const { user, account } = await newAccount();
    for (const f of ['archive', 'inbox', 'sent']) {
      await dataSource.query(
        `INSERT INTO mail_folders (account_id, remote_id, display_name) VALUES ($1, $2, $2)`,
        [account, f],
      );
    }
    const msg = (id: string, changeKey: string, isRead: boolean): MessageInput => ({
      id,
      changeKey,
      subject: id,
      from: { name: 'Ann', address: 'ann@contoso.example' },
      toRecipients: [],
      ccRecipients: [],
      bodyPreview: '',
      body: { contentType: 'text', content: id },
      receivedAt: '2026-01-01T00:00:00Z',
      sentAt: null,
      isRead,
      flagStatus: 'notFlagged',
      importance: 'normal',
      hasAttachments: false,
      conversationId: null,
      internetMessageId: null,
    });
    // a writer's page: the rows and the stored counts in one transaction
    const page = (
      folder: string,
      list: MessageInput[],
      removedIds: string[] = [],
      relocate = new Map<string, string>(),
    ): Promise<AppliedPage> =>
      dataSource.transaction(async (m) => {
        const applied = await messages.applyPage(
          m,
          account,
          folder,
          { messages: list, removedIds },
          relocate,
        );
        await folders.settleCounts(m, account, {
          changes: applied.counts,
          ...(applied.countsUnknown ? { recount: 'all' as const } : {}),
        });
        return applied;
      });
    const stored = async () =>
      Object.fromEntries(
        (
          await dataSource.query<Array<{ remote_id: string; total_count: number; unread_count: number }>>(
            `SELECT remote_id, total_count, unread_count FROM mail_folders WHERE account_id = $1`,
            [account],
          )
        ).map((r) => [r.remote_id, [r.total_count, r.unread_count]]),
      );
    const counted = async () =>
      Object.fromEntries(
        (
          await dataSource.query<Array<{ remote_id: string; total: number; unread: number }>>(
            `SELECT f.remote_id, count(m.remote_id)::int AS total,
                    (count(m.remote_id) FILTER (WHERE NOT m.is_read))::int AS unread
             FROM mail_folders f
             LEFT JOIN messages m ON m.account_id = f.account_id AND m.folder_remote_id = f.remote_id
             WHERE f.account_id = $1 GROUP BY f.remote_id`,
            [account],
          )
        ).map((r) => [r.remote_id, [r.total, r.unread]]),
      );

    // new messages, 2 of 3 unread
    await page('inbox', [msg('a', '1', false), msg('b', '1', false), msg('c', '1', true)]);
    expect(await stored()).toEqual({ inbox: [3, 2], archive: [0, 0], sent: [0, 0] });
    // read on another device (a new change key), and the same page again: nothing more
    await page('inbox', [msg('a', '2', true)]);
    const again = await page('inbox', [msg('a', '2', true)]);
    expect(again.counts).toEqual([]);
    expect(await stored()).toEqual({ inbox: [3, 1], archive: [0, 0], sent: [0, 0] });
    // moved, seen from its new folder first (and marked unread on the way), then its old folder's removal
    await page('archive', [msg('c', '2', false)]);
    expect(await stored()).toEqual({ inbox: [2, 1], archive: [1, 1], sent: [0, 0] });
    await page('inbox', [], ['c']);
    expect(await stored()).toEqual({ inbox: [2, 1], archive: [1, 1], sent: [0, 0] });
    // a removal whose new folder is known moves it there; a plain removal
    await page('inbox', [], ['b'], new Map([['b', 'sent']]));
    await page('inbox', [], ['a']);
    expect(await stored()).toEqual({ inbox: [0, 0], archive: [1, 1], sent: [1, 1] });
    expect(await stored()).toEqual(await counted());

    // Two writers at once (a move seen by both folders' deltas): the one that removes it commits first...
    await page('inbox', [msg('d', '1', false)]);
    const removing = dataSource.createQueryRunner();
    await removing.connect();
    await removing.startTransaction();
    const removed = await messages.applyPage(removing.manager, account, 'inbox', {
      messages: [],
      removedIds: ['d'],
    });
    // ...while the destination's page waits on that row, having read it in its folder before
    const moving = page('sent', [msg('d', '2', false)]);
    await new Promise((r) => setTimeout(r, 300));
    await folders.settleCounts(removing.manager, account, { changes: removed.counts });
    await removing.commitTransaction();
    await removing.release();
    await moving;
    expect(await stored()).toEqual(await counted());
    expect(await stored()).toEqual({ inbox: [0, 0], archive: [1, 1], sent: [2, 2] });

    // ...and a message inserted by another writer after the page's snapshot: its folder before is unknown, the
    // page's transaction counts the account's folders again
    const inserting = dataSource.createQueryRunner();
    await inserting.connect();
    await inserting.startTransaction();
    const inserted = await messages.applyPage(inserting.manager, account, 'archive', {
      messages: [msg('e', '1', false)],
      removedIds: [],
    });
    const racing = page('inbox', [msg('e', '2', true)]);
    await new Promise((r) => setTimeout(r, 300));
    await folders.settleCounts(inserting.manager, account, { changes: inserted.counts });
    await inserting.commitTransaction();
    await inserting.release();
    expect((await racing).countsUnknown).toBe(true);
    expect(await stored()).toEqual(await counted());
    expect(await stored()).toEqual({ inbox: [1, 0], archive: [1, 1], sent: [2, 2] });
    await dataSource.query('DELETE FROM users WHERE id = $1', [user]);
  });

  it('a folder rebuild keeps its messages until the last page, which removes only those no page listed', async () => {
    const { user, account } = await newAccount();
    await dataSource.query(
      `INSERT INTO mail_folders (account_id, remote_id, display_name, cursor) VALUES ($1, 'inbox', 'Inbox', 'old')`,
      [account],
    );
    for (const id of ['kept-1', 'kept-2', 'deleted-meanwhile']) {
      await dataSource.query(
        `INSERT INTO messages (account_id, remote_id, folder_remote_id, change_key, received_at)
         VALUES ($1, $2, 'inbox', 'ck', now())`,
        [account, id],
      );
    }
    const ids = async () =>
      (
        await dataSource.query<Array<{ remote_id: string }>>(
          `SELECT remote_id FROM messages WHERE account_id = $1 ORDER BY remote_id`,
          [account],
        )
      ).map((r) => r.remote_id);

    await dataSource.transaction((m) => folders.startRebuild(m, account, 'inbox'));
    expect((await folders.listForSync(account))[0]).toMatchObject({ deltaLink: null, rebuilding: true });
    // two pages, each in its own transaction: nothing is removed before the last
    await dataSource.transaction((m) => folders.markSeen(m, account, 'inbox', ['kept-1']));
    expect(await ids()).toEqual(['deleted-meanwhile', 'kept-1', 'kept-2']);
    const swept = await dataSource.transaction(async (m) => {
      await folders.markSeen(m, account, 'inbox', ['kept-2', 'kept-2']);
      return folders.finishRebuild(m, account, 'inbox');
    });
    expect(swept).toEqual(['deleted-meanwhile']);
    expect(await ids()).toEqual(['kept-1', 'kept-2']);
    expect((await folders.listForSync(account))[0]).toMatchObject({ rebuilding: false });
    const seen: Array<{ n: string }> = await dataSource.query(
      `SELECT count(*) AS n FROM folder_rebuild_seen WHERE account_id = $1`,
      [account],
    );
    expect(seen[0].n).toBe('0');
    await dataSource.query('DELETE FROM users WHERE id = $1', [user]);
  });

  it.each([
    [
      'the long way (lock, counts, links)',
      async (m: EntityManager, account: string) => {
        await folders.lockFolders(m, account, ['inbox']);
        await folders.settleCounts(m, account, { changes: [{ folderId: 'inbox', total: 1, unread: 1 }] });
        await folders.saveLinks(m, account, 'inbox', { nextLink: 'next', deltaLink: null });
      },
    ],
    [
      'in one statement (settlePage)',
      async (m: EntityManager, account: string) => {
        await folders.settlePage(m, account, 'inbox', {
          changes: [{ folderId: 'inbox', total: 1, unread: 1 }],
          links: { nextLink: 'next', deltaLink: null },
        });
      },
    ],
  ])(
    "a rebuild page's markSeen, uncommitted, does not block the page before it from locking and counting the folder: %s",
    async (_way, settle) => {
      // Page k of a rebuild runs markSeen (an insert referencing the folder row: a FOR KEY SHARE lock on it), then
      // waits in our code for page k-1; page k-1 locks the folder row to move its counts. Were that lock to wait for
      // page k, the two would wait for each other (the cycle that failed syncs with "lock timeout").
      const { user, account } = await newAccount();
      await dataSource.query(
        `INSERT INTO mail_folders (account_id, remote_id, display_name, cursor) VALUES ($1, 'inbox', 'Inbox', 'old')`,
        [account],
      );
      await dataSource.transaction((m) => folders.startRebuild(m, account, 'inbox'));
      const pageK = dataSource.createQueryRunner();
      await pageK.connect();
      await pageK.startTransaction();
      try {
        await folders.markSeen(pageK.manager, account, 'inbox', ['later-page-message']);
        const started = Date.now();
        await dataSource.transaction(async (m) => {
          await m.query(`SET LOCAL lock_timeout = '2s'`);
          await settle(m, account);
        });
        expect(Date.now() - started).toBeLessThan(1000);
      } finally {
        await pageK.commitTransaction();
        await pageK.release();
      }
      const [row] = await dataSource.query<Array<{ total_count: number; unread_count: number }>>(
        `SELECT total_count, unread_count FROM mail_folders WHERE account_id = $1 AND remote_id = 'inbox'`,
        [account],
      );
      expect(row).toEqual({ total_count: 1, unread_count: 1 });
      await dataSource.query('DELETE FROM users WHERE id = $1', [user]);
    },
  );
  it("settles a page's counts and links in one statement, and two pages moving messages into each other's folder wait, never deadlock", async () => {
    const { user, account } = await newAccount();
    for (const f of ['archive', 'inbox', 'sent']) {
      await dataSource.query(
        `INSERT INTO mail_folders (account_id, remote_id, display_name, total_count, unread_count, cursor)
         VALUES ($1, $2, $2, 10, 5, 'old-' || $2)`,
        [account, f],
      );
    }
    // a folder row as [total, unread, nextLink, deltaLink]
    const row = async (f: string) => {
      const [r] = await dataSource.query<
        Array<{
          total_count: number;
          unread_count: number;
          next_cursor: string | null;
          cursor: string | null;
        }>
      >(
        `SELECT total_count, unread_count, next_cursor, cursor FROM mail_folders
         WHERE account_id = $1 AND remote_id = $2`,
        [account, f],
      );
      return [r.total_count, r.unread_count, r.next_cursor, r.cursor];
    };

    // a page mid-round: its counts move (one message came from archive), its nextLink is stored, its deltaLink kept
    const mid = await dataSource.transaction((m) =>
      folders.settlePage(m, account, 'inbox', {
        changes: [
          { folderId: 'inbox', total: 2, unread: 1 },
          { folderId: 'archive', total: -1, unread: 0 },
        ],
        links: { nextLink: 'next-1', deltaLink: null },
      }),
    );
    expect(mid).toEqual([
      { folderId: 'archive', totalCount: 9, unreadCount: 5 },
      { folderId: 'inbox', totalCount: 12, unreadCount: 6 },
    ]);
    expect(await row('inbox')).toEqual([12, 6, 'next-1', 'old-inbox']);
    expect(await row('archive')).toEqual([9, 5, null, 'old-archive']);

    // the round's last page: no count change, the deltaLink clears the nextLink; a folder asked for is read back
    const last = await dataSource.transaction((m) =>
      folders.settlePage(m, account, 'inbox', {
        changes: [],
        links: { nextLink: null, deltaLink: 'delta-2' },
        alsoRead: ['sent'],
      }),
    );
    expect(last).toEqual([
      { folderId: 'inbox', totalCount: 12, unreadCount: 6 },
      { folderId: 'sent', totalCount: 10, unreadCount: 5 },
    ]);
    expect(await row('inbox')).toEqual([12, 6, null, 'delta-2']);
    expect(await row('sent')).toEqual([10, 5, null, 'old-sent']);

    // Two folders' pages at once, each moving a message into the other: both lock both rows in one order, so the
    // second waits for the first's commit and adds its changes on top (no deadlock, no lost update).
    const first = dataSource.createQueryRunner();
    await first.connect();
    await first.startTransaction();
    let secondDone = false;
    let second: Promise<FolderCountsRow[]> | undefined;
    try {
      await folders.settlePage(first.manager, account, 'sent', {
        changes: [
          { folderId: 'sent', total: -1, unread: -1 },
          { folderId: 'archive', total: 1, unread: 1 },
          { folderId: 'inbox', total: 1, unread: 1 },
        ],
        links: { nextLink: null, deltaLink: 'sent-delta' },
      });
      second = dataSource
        .transaction(async (m) => {
          await m.query(`SET LOCAL lock_timeout = '10s'`);
          // inbox only read back: as the first writer committed it, not as this statement's snapshot had it
          return folders.settlePage(m, account, 'archive', {
            changes: [
              { folderId: 'archive', total: -1, unread: 0 },
              { folderId: 'sent', total: 1, unread: 0 },
            ],
            links: { nextLink: null, deltaLink: 'archive-delta' },
            alsoRead: ['inbox'],
          });
        })
        .finally(() => {
          secondDone = true;
        });
      await new Promise((r) => setTimeout(r, 300));
      expect(secondDone).toBe(false);
    } finally {
      await first.commitTransaction();
      await first.release();
    }
    expect(await second).toEqual([
      { folderId: 'archive', totalCount: 9, unreadCount: 6 },
      { folderId: 'inbox', totalCount: 13, unreadCount: 7 },
      { folderId: 'sent', totalCount: 10, unreadCount: 4 },
    ]);
    expect(await row('archive')).toEqual([9, 6, null, 'archive-delta']);
    expect(await row('sent')).toEqual([10, 4, null, 'sent-delta']);
    expect(await row('inbox')).toEqual([13, 7, null, 'delta-2']);

    await dataSource.query('DELETE FROM users WHERE id = $1', [user]);
  });
});
