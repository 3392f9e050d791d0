import { randomUUID } from 'node:crypto';
import type { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  createDataSource,
  MailChangesRepository,
  MailFoldersRepository,
  MessagesRepository,
  type AccountForSync,
  type FolderSyncState,
} from '@email-core/database';
import type { ChangesFrom, ChangesPage, MailboxReader, RemoteMessage } from '@email-core/providers';
import { currentTestRun } from '@email-core/testing';
import type { AccountCacheVersion } from './account-cache-version';
import { ChangeFeed } from './change-feed';
import { KeyedSerial, mapLimit } from './concurrency';
import { FolderDeltaService, type FolderDeltaRun } from './folder-delta.service';

/**
 * Two folders' deltas of one round meet on one message that moved between them while they were read (real
 * Postgres, a scripted provider): a page read before the move, or a look-up answered before the other folder's
 * page committed, must never leave the mirror with an older version of the message (or one that is gone) that no
 * later delta of its folder reports again. Found in the live-mail e2e under load (a message kept `...c0002` while
 * the export had `...c0003`; another run kept a deleted message).
 */
describe('folder deltas of one round, a message moving between them (real Postgres)', () => {
  const run = currentTestRun();
  const dataSource: DataSource = createDataSource({ url: run.databaseUrl, poolSize: 4 });
  const messages = new MessagesRepository(dataSource);
  const folders = new MailFoldersRepository(dataSource);
  const delta = new FolderDeltaService(
    dataSource,
    folders,
    messages,
    new MailChangesRepository(dataSource),
    { bump: () => Promise.resolve() } as unknown as AccountCacheVersion,
    {
      pageSize: 50,
      folderParallelism: 4,
      pageWriters: 1,
      firstScreenSize: 0,
      progressEveryPages: 10,
      progressMinIntervalMs: 1000,
    },
  );
  const users: string[] = [];
  const quiet = { warn: () => undefined } as unknown as Logger;

  beforeAll(() => dataSource.initialize());
  afterAll(async () => {
    if (users.length > 0) await dataSource.query('DELETE FROM users WHERE id = ANY($1)', [users]);
    await dataSource.destroy();
  });

  /** a synced Outlook account with two folders, A and B */
  const newAccount = async (): Promise<AccountForSync> => {
    const user = randomUUID();
    const account = randomUUID();
    users.push(user);
    await dataSource.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')`, [
      user,
      `${user}@example.test`,
    ]);
    await dataSource.query(
      `INSERT INTO mail_accounts (id, user_id, external_user_id, email, provider)
       VALUES ($1, $2, 'ext', $3, 'outlook')`,
      [account, user, `${account}@example.test`],
    );
    for (const folder of ['A', 'B']) {
      await dataSource.query(
        `INSERT INTO mail_folders (account_id, remote_id, display_name) VALUES ($1, $2, $2)`,
        [account, folder],
      );
    }
    return { id: account, userId: user, status: 'synced', syncCompletedAt: new Date(), provider: 'outlook' };
  };

  /** the one message of these scenarios, as the provider lists it at version `changeKey` */
  const mail = (changeKey: string, folderId: string): RemoteMessage => ({
    id: 'm1',
    folderId,
    changeKey,
    subject: `m1 ${changeKey}`,
    from: { name: 'Ann', address: 'ann@example.test' },
    toRecipients: [],
    ccRecipients: [],
    bodyPreview: '',
    body: { contentType: 'text', content: 'hello' },
    receivedAt: '2026-01-01T00:00:00.000Z',
    sentAt: null,
    isRead: false,
    flagStatus: 'notFlagged',
    importance: 'normal',
    hasAttachments: false,
    conversationId: 'conv-m1',
    internetMessageId: null,
    inReplyTo: null,
    references: [],
  });

  /** the provider: each folder's pages in order (the last one caught up), and where the message is now */
  const provider = (
    pages: Record<string, Array<Omit<ChangesPage, 'cursor' | 'nextCursor'>>>,
    folderOf: () => Promise<string | null>,
  ): MailboxReader => {
    const served: Record<string, number> = {};
    return {
      listFolderTree: () => Promise.resolve([]),
      folderOf,
      changes: (from: ChangesFrom) => {
        const folder = 'cursor' in from ? from.cursor.split(':')[0] : from.folderId;
        const list = pages[folder] ?? [];
        const i = served[folder] ?? 0;
        served[folder] = i + 1;
        const page = list[i] ?? { messages: [], removedIds: [] };
        return Promise.resolve(
          i + 1 < list.length
            ? { ...page, nextCursor: `${folder}:${i + 1}` }
            : { ...page, cursor: `${folder}:done` },
        );
      },
    };
  };

  const stateOf = async (account: string, folder: string): Promise<FolderSyncState> => {
    const all = await folders.listForSync(account);
    const f = all.find((x) => x.graphId === folder);
    if (!f) throw new Error(`no folder ${folder}`);
    return { ...f, deltaLink: `${folder}:start`, nextLink: null };
  };

  const syncFolder = async (
    account: AccountForSync,
    client: MailboxReader,
    folder: string,
    serial: KeyedSerial,
  ) => {
    const r: FolderDeltaRun = {
      account,
      client,
      folder: await stateOf(account.id, folder),
      signal: new AbortController().signal,
      feed: new ChangeFeed(account, () => Promise.resolve(), quiet),
      locate: async (ids) => {
        const found = await mapLimit(ids, 4, (id) => client.folderOf(id));
        return new Map(ids.map((id, i) => [id, found[i] ?? null]));
      },
      serial,
    };
    return delta.syncFolder(r);
  };

  const row = async (account: string) =>
    (
      await dataSource.query<Array<{ folder: string; change_key: string }>>(
        `SELECT folder_remote_id AS folder, change_key FROM messages WHERE account_id = $1 AND remote_id = 'm1'`,
        [account],
      )
    )[0];

  const seed = async (account: string, folder: string, changeKey: string) => {
    await dataSource.transaction((m) =>
      messages.applyPage(m, account, folder, { messages: [mail(changeKey, folder)], removedIds: [] }),
    );
  };

  it("a page read before the message moved leaves the destination's newer version alone", async () => {
    const account = await newAccount();
    await seed(account.id, 'A', 'v1');
    // the message changed in A (v2), A's page was read, then it moved to B (v3): B's page, read after the move,
    // commits first; A's page commits next, and A's following page reports the move's removal
    const client = provider(
      {
        A: [
          { messages: [mail('v2', 'A')], removedIds: [] },
          { messages: [], removedIds: ['m1'] },
        ],
        B: [{ messages: [mail('v3', 'B')], removedIds: [] }],
      },
      () => Promise.resolve('B'),
    );
    const serial = new KeyedSerial();
    await syncFolder(account, client, 'B', serial);
    expect(await row(account.id)).toEqual({ folder: 'B', change_key: 'v3' });
    await syncFolder(account, client, 'A', serial);
    // B's delta is past v3: nothing would ever bring it back
    expect(await row(account.id)).toEqual({ folder: 'B', change_key: 'v3' });
  });

  it("a removal's look-up answered just before the destination's own removal does not keep the message", async () => {
    const account = await newAccount();
    await seed(account.id, 'A', 'v1');
    // the message moved from A to B, then was deleted in B. A's delta reports the move's removal and looks the
    // message up: the provider answers B (just before the delete), and B's delta, reporting the delete, runs
    // before A's page is written
    let deleted = false;
    let folderB: Promise<unknown> | undefined;
    const serial = new KeyedSerial();
    const lookUp = async (): Promise<string | null> => {
      if (deleted) return null;
      deleted = true;
      folderB = syncFolder(account, client, 'B', serial);
      // B's page commits meanwhile, unless it has to wait for A's (then it waits no longer than this)
      await Promise.race([folderB, new Promise((r) => setTimeout(r, 1000))]);
      return 'B';
    };
    const client: MailboxReader = provider(
      {
        A: [{ messages: [], removedIds: ['m1'] }],
        B: [{ messages: [], removedIds: ['m1'] }],
      },
      lookUp,
    );
    await syncFolder(account, client, 'A', serial);
    await folderB;
    // B's delta is past the delete: a row left in B would stay forever
    expect(await row(account.id)).toBeUndefined();
  });
});
