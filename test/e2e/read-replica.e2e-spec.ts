import { Client } from 'pg';
import {
  apiCall,
  linkOutlook,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type RunningProduct,
} from '@email-core/testing';

interface CommandView {
  id: string;
  status: 'queued' | 'sent' | 'done' | 'failed';
  reason: string | null;
}
interface MessageRow {
  id: string;
  isRead: boolean;
  flagStatus: 'notFlagged' | 'flagged' | 'complete';
}
interface Page {
  items: MessageRow[];
}

const ADDRESS = 'reader@replica.example';
const PASSWORD = 'mailbox-password';
const ROUNDS = 100;
/** the producers' read pool on the replica (DatabaseModule: `<applicationName>-reads`) */
const READS_APP = 'email-core-producer-reads';
const MESSAGE_PAGE_SQL = /FROM messages m/;

/**
 * Issue 21, on the stack's real primary and hot standby: the producer's queries reach the replica while commands
 * (and every write) reach the primary; with the replica's replay paused, a user who marks a message read and flags
 * another sees both changes in the next list, 100 times in a row (the account's WAL watermark sends those reads
 * to the primary); after the replay resumes, reads go back to the replica.
 *
 * READ_REPLICA_MAX_LAG_MS is raised for this test so the paused replica stays "serving": what keeps the user's
 * reads current here is the watermark alone, not the lag limit (the fault suite covers the limit and a dead
 * replica).
 */
describe('CQRS reads on the streaming replica, with read-your-writes', () => {
  let product: RunningProduct;
  let primary: Client;
  let replica: Client;
  let token = '';
  let accountId = '';
  let limit = 20;

  beforeAll(async () => {
    product = await startProduct({
      isolated: true,
      replica: true,
      appEnv: {
        READ_REPLICA_MAX_LAG_MS: '600000',
        // 200 commands in a minute or so, from one user and one address
        COMMANDS_RATE_LIMIT_PER_MINUTE: '1000',
        COMMANDS_IP_RATE_LIMIT_PER_MINUTE: '1000',
        LOG_LEVEL: 'warn',
      },
    });
    primary = new Client({ connectionString: product.databaseUrl });
    replica = new Client({ connectionString: product.databaseReadUrl });
    await primary.connect();
    await replica.connect();
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address: ADDRESS,
      displayName: 'Reader',
      password: PASSWORD,
      seed: { messages: 60, folders: 1, seed: 2101 },
    });
    ({ token } = await signUp(product.api));
    await linkOutlook(product, token, ADDRESS, PASSWORD);
    accountId = (await waitForAccountStatus(product.api, token, 'synced')).id;
  }, 240_000);

  afterAll(async () => {
    // never leave the shared replica paused, whatever happened
    await replica?.query('SELECT pg_wal_replay_resume()').catch(() => undefined);
    await replica?.end();
    await primary?.end();
    await product?.stop();
  });

  /** a message page the cache has never seen (each call a new page size), so Postgres answers it */
  const freshPage = async (): Promise<MessageRow[]> => {
    limit = limit >= 100 ? 20 : limit + 1;
    const res = await apiCall<Page>(
      product.api,
      'GET',
      `/api/v1/accounts/${accountId}/messages?limit=${limit}`,
      {
        token,
      },
    );
    expect(res.status).toBe(200);
    return res.body.items;
  };

  /** the replica's own clock: the read pool's last message-page query started after `since` */
  const replicaReadSince = async (since: Date): Promise<boolean> => {
    const { rows } = await replica.query<{ query: string; query_start: Date }>(
      `SELECT query, query_start FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
      [READS_APP],
    );
    return rows.some((r) => MESSAGE_PAGE_SQL.test(r.query) && r.query_start >= since);
  };

  const replicaNow = async (): Promise<Date> =>
    (await replica.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows[0].now;

  const commandsOn = async (db: Client): Promise<number> =>
    Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM mail_commands')).rows[0].n);

  const finished = (id: string) =>
    waitFor(
      async () => {
        const res = await apiCall<CommandView>(product.api, 'GET', `/api/v1/commands/${id}`, { token });
        return res.body.status === 'done' || res.body.status === 'failed' ? res.body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50, what: `command ${id} to finish` },
    );

  const act = async (body: Record<string, unknown>): Promise<void> => {
    const res = await apiCall<CommandView>(product.api, 'POST', '/api/v1/commands', {
      token,
      body: { accountId, ...body },
    });
    expect(res.status).toBe(202);
    const done = await finished(res.body.id);
    expect(done).toMatchObject({ status: 'done' });
  };

  it('queries reach the replica, commands reach the primary', async () => {
    // the producer holds its read pool on the replica, and no write connection there
    const { rows: apps } = await replica.query<{ application_name: string }>(
      `SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = current_database()`,
    );
    expect(apps.map((a) => a.application_name)).toContain(READS_APP);
    expect(apps.map((a) => a.application_name)).not.toContain('email-core-producer');

    const before = await replicaNow();
    await waitFor(
      async () => ((await freshPage()).length > 0 && (await replicaReadSince(before)) ? true : undefined),
      {
        timeoutMs: 10_000,
        intervalMs: 100,
        what: 'a message page read on the replica',
      },
    );
    // the replica's own statistics move with those reads
    const fetched = async () =>
      Number(
        (
          await replica.query<{ n: string }>(
            'SELECT tup_fetched + tup_returned AS n FROM pg_stat_database WHERE datname = current_database()',
          )
        ).rows[0].n,
      );
    const statsBefore = await fetched();
    for (let i = 0; i < 5; i++) await freshPage();
    await waitFor(async () => ((await fetched()) > statsBefore ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 500,
      what: "the replica's pg_stat_database to count the reads",
    });

    // a command is written on the primary (the replica is read-only and only replays it)
    const [first] = await freshPage();
    const commandsBefore = await commandsOn(primary);
    await act({ action: 'markRead', messageIds: [first.id], isRead: !first.isRead });
    expect(await commandsOn(primary)).toBe(commandsBefore + 1);
    await expect(replica.query('INSERT INTO mail_commands DEFAULT VALUES')).rejects.toMatchObject({
      code: '25006', // read_only_sql_transaction
    });
  }, 120_000);

  it(`with the replica's replay paused, a user's two changes show in the next list, ${ROUNDS} times in a row; then reads return to the replica`, async () => {
    const page = await freshPage();
    const [read, flagged] = [page[0].id, page[1].id];
    await replica.query('SELECT pg_wal_replay_pause()');
    const pausedAt = await replicaNow();
    const replicaCommands = await commandsOn(replica);
    let stale = 0;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const isRead = round % 2 === 0;
        const flagStatus = round % 2 === 0 ? 'flagged' : 'notFlagged';
        await Promise.all([
          act({ action: 'markRead', messageIds: [read], isRead }),
          act({ action: 'flag', messageIds: [flagged], flagStatus }),
        ]);
        const items = await freshPage();
        const seen = {
          isRead: items.find((m) => m.id === read)?.isRead,
          flagStatus: items.find((m) => m.id === flagged)?.flagStatus,
        };
        expect({ round, ...seen }).toEqual({ round, isRead, flagStatus });
        // the list was not the replica's: it has replayed none of the commands written since the pause
        if ((await commandsOn(replica)) === replicaCommands) stale++;
      }
    } finally {
      await replica.query('SELECT pg_wal_replay_resume()');
    }
    expect(stale).toBe(ROUNDS);
    // no message page was read on the replica while it was paused
    expect(await replicaReadSince(pausedAt)).toBe(false);

    // replay resumed: the replica catches up and the reads go back to it
    await waitFor(
      async () => {
        const { rows } = await primary.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
        const { rows: r } = await replica.query<{ caught: boolean }>(
          'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught',
          [rows[0].lsn],
        );
        return r[0].caught ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the replica to catch up' },
    );
    const resumedAt = await replicaNow();
    await waitFor(
      async () => ((await freshPage()).length > 0 && (await replicaReadSince(resumedAt)) ? true : undefined),
      {
        timeoutMs: 10_000,
        intervalMs: 100,
        what: 'message pages read on the replica again',
      },
    );
    expect(await commandsOn(replica)).toBe(await commandsOn(primary));
  }, 600_000);
});
