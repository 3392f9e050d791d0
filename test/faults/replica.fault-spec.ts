import { Client } from 'pg';
import { killPgReplica, startPgReplica } from '@email-core/stack/faults';
import {
  apiCall,
  expectConverged,
  linkOutlook,
  recordScenario,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type RunningProduct,
} from '@email-core/testing';

interface CommandView {
  id: string;
  status: 'queued' | 'sent' | 'done' | 'failed';
}
interface Page {
  items: Array<{ id: string; isRead: boolean }>;
}
interface Health {
  details?: { replica?: { state?: string; reason?: string } };
}

const READER = 'replica-reader@faults.example';
const BUSY = 'replica-busy@faults.example';
const READS_APP = 'email-core-producer-reads';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Issue 21's fault: the stack's streaming replica SIGKILLed during live traffic (changes arriving in one mailbox,
 * the user acting on another) and API reads every 50 ms. Every read answers 200 with current data (never older
 * than the user's last finished command: read-your-writes holds across the switch to the primary and back), the
 * health check says the replica is degraded (the process stays ready), and after the replica is started again the
 * reads return to it; both mirrors converge with Outlook.
 */
describe('read replica faults', () => {
  let product: RunningProduct;
  let replicaSql: () => Promise<Client>;

  beforeAll(async () => {
    product = await startProduct({
      isolated: true,
      replica: true,
      appEnv: {
        LOG_LEVEL: 'log',
        COMMANDS_RATE_LIMIT_PER_MINUTE: '1000',
        COMMANDS_IP_RATE_LIMIT_PER_MINUTE: '1000',
      },
    });
    replicaSql = async () => {
      const c = new Client({ connectionString: product.databaseReadUrl, connectionTimeoutMillis: 2000 });
      c.on('error', () => undefined);
      await c.connect();
      return c;
    };
  }, 180_000);

  afterAll(async () => {
    await product?.stop();
  });

  it('the replica SIGKILLed during live traffic and reads every 50 ms: every read 200 and current; reads return after its restart', async () => {
    const t0 = Date.now();
    const { token } = await signUp(product.api);
    const link = async (address: string, messages: number, seed: number): Promise<string> => {
      await product.emulator.admin('POST', '/_emulator/mailboxes', {
        address,
        seed: { messages, folders: 2, seed },
      });
      const id = /linked=([0-9a-f-]{36})/.exec(await linkOutlook(product, token, address))?.[1];
      if (!id) throw new Error('the callback did not name the linked account');
      return id;
    };
    const reader = await link(READER, 120, 2111);
    const busy = await link(BUSY, 400, 2112);
    for (const accountId of [reader, busy])
      await waitForAccountStatus(product.api, token, 'synced', { accountId });

    let limit = 20;
    const list = (accountId: string) => {
      limit = limit >= 100 ? 20 : limit + 1; // a page the cache has not seen: Postgres answers
      return apiCall<Page>(product.api, 'GET', `/api/v1/accounts/${accountId}/messages?limit=${limit}`, {
        token,
      });
    };
    const target = (await list(reader)).body.items[0];
    const health = async () =>
      (await apiCall<Health>(product.api, 'GET', '/health')).body.details?.replica?.state ?? 'unknown';
    await waitFor(async () => ((await health()) === 'serving' ? true : undefined), {
      timeoutMs: 15_000,
      what: 'the replica serving reads',
    });

    // the user's own changes: the target toggled read/unread, one command at a time; `allowed` is what a read
    // may show: the state of the last finished command, and the one in flight
    let confirmed = target.isRead;
    let inFlight: boolean | undefined;
    let acting = true;
    let commands = 0;
    const actor = (async () => {
      while (acting) {
        inFlight = !confirmed;
        const res = await apiCall<CommandView>(product.api, 'POST', '/api/v1/commands', {
          token,
          body: { accountId: reader, action: 'markRead', messageIds: [target.id], isRead: inFlight },
        });
        expect(res.status).toBe(202);
        const done = await waitFor(
          async () => {
            const r = await apiCall<CommandView>(product.api, 'GET', `/api/v1/commands/${res.body.id}`, {
              token,
            });
            return r.body.status === 'done' || r.body.status === 'failed' ? r.body : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 50, what: 'a command to finish' },
        );
        expect(done.status).toBe('done');
        confirmed = inFlight;
        inFlight = undefined;
        commands++;
        await sleep(100);
      }
    })();

    // reads every 50 ms of both mailboxes; each read of the user's mailbox checked against what they did
    const statuses: Record<string, number> = {};
    const stale: string[] = [];
    let reads = 0;
    let reading = true;
    const readerLoop = (async () => {
      while (reading) {
        const allowed = new Set([confirmed, inFlight]);
        const [mine, theirs] = await Promise.all([
          list(reader).catch(() => ({ status: 0, body: { items: [] } })),
          list(busy).catch(() => ({ status: 0, body: { items: [] } })),
        ]);
        for (const r of [mine, theirs]) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        reads += 2;
        const shown = mine.body.items?.find((m) => m.id === target.id)?.isRead;
        if (mine.status === 200 && !allowed.has(shown)) stale.push(`read ${reads}: showed isRead=${shown}`);
        await sleep(50);
      }
    })();

    // live traffic in the other mailbox, arriving through the webhook and the consumer
    const run = await product.emulator.admin<{ id: number; total: number }>(
      'POST',
      `/_emulator/mailboxes/${BUSY}/activity`,
      { creates: 60, updates: 60, seconds: 16, seed: 2113 },
    );
    await sleep(3000);
    const killedAt = Date.now();
    const pid = await killPgReplica();
    const degradedAfterMs = await waitFor(
      async () => ((await health()) === 'degraded' ? Date.now() - killedAt : undefined),
      { timeoutMs: 10_000, intervalMs: 50, what: '/health to report the replica degraded' },
    );
    const readsWhileDown = reads;
    await sleep(6000);
    const readsDuringOutage = reads - readsWhileDown;
    await startPgReplica();
    const restartedAt = Date.now();
    const servingAfterMs = await waitFor(
      async () => ((await health()) === 'serving' ? Date.now() - restartedAt : undefined),
      { timeoutMs: 60_000, intervalMs: 100, what: 'the replica serving reads again' },
    );
    // the reads are on it again: the producer's read pool runs the message page query there
    const sql = await replicaSql();
    const back = await sql.query<{ now: Date }>('SELECT clock_timestamp() AS now');
    try {
      await waitFor(
        async () => {
          const { rows } = await sql.query<{ query: string; query_start: Date }>(
            `SELECT query, query_start FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
            [READS_APP],
          );
          return rows.some((r) => /FROM messages m/.test(r.query) && r.query_start >= back.rows[0].now)
            ? true
            : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 100, what: 'message pages read on the restarted replica' },
      );
    } finally {
      await sql.end();
    }
    // the live traffic runs its whole course (16 s) under the reads, and only then is the mirror compared: a
    // restart faster than that (CI's: serving again 1 s after the start) once compared while Outlook was still
    // creating messages, and found the last one not mirrored yet
    await waitFor(
      async () =>
        (
          await product.emulator.admin<{ state: string }>(
            'GET',
            `/_emulator/mailboxes/${BUSY}/activity/${run.id}`,
          )
        ).state === 'finished'
          ? true
          : undefined,
      { timeoutMs: 120_000, intervalMs: 250, what: 'the live traffic to finish' },
    );
    await sleep(2000);
    acting = false;
    reading = false;
    await Promise.all([actor, readerLoop]);

    expect(Object.keys(statuses)).toEqual(['200']);
    expect(stale).toEqual([]);
    expect(readsDuringOutage).toBeGreaterThan(20);
    expect(commands).toBeGreaterThan(5);

    const converged = await expectConverged(
      product,
      [
        { accountId: reader, address: READER },
        { accountId: busy, address: BUSY },
      ],
      { timeoutMs: 180_000 },
    );
    recordScenario({
      scenario: 'read replica SIGKILL during live traffic and reads every 50 ms',
      file: __filename,
      faults: [
        `replica pid ${pid} SIGKILLed during ${run.total} changes in one mailbox, the user's commands in another and reads every 50 ms`,
        `/health said degraded ${degradedAfterMs} ms after the kill; restarted, serving again after ${servingAfterMs} ms`,
      ],
      converged,
      compared: {
        readsAnswered200: statuses['200'] ?? 0,
        readsFailed: Object.entries(statuses).reduce((n, [s, c]) => (s === '200' ? n : n + c), 0),
        readsDuringOutage,
        staleReads: stale.length,
        userCommands: commands,
      },
      durationMs: Date.now() - t0,
    });
  }, 420_000);
});
