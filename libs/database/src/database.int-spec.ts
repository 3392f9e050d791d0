import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { currentTestRun } from '@email-core/testing';
import { createDataSource } from './data-source';
import { runMigrationsLocked } from './migrate';
import { migrations } from './migrations';
import { MailFoldersRepository } from './mail/mail-folders.repository';
import { MessagesRepository } from './mail/messages.repository';
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
});
