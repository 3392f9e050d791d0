import { Client } from 'pg';
import { currentTestRun } from '@email-core/testing';
import { createDataSource } from './data-source';
import { runMigrationsLocked } from './migrate';
import { migrations } from './migrations';
import { OutboxRepository } from './outbox/outbox.repository';

describe('Postgres (real server, migrated schema)', () => {
  const run = currentTestRun();
  const dataSource = createDataSource({ url: run.databaseUrl, poolSize: 4 });
  const outbox = new OutboxRepository(dataSource);

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
});
