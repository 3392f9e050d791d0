import calculateSlot from 'cluster-key-slot';
import { Client } from 'pg';
import { CacheKeys, createRedisCluster } from '@email-core/cache';
import {
  killKafkaBroker,
  killRedisNode,
  redisMasterForSlot,
  restartPostgres,
  restartRedisNode,
  startKafkaBroker,
  waitRedisFailover,
} from '@email-core/stack/faults';
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

/** the account's cache version and how many query results are cached under it, straight from the masters */
async function cachedPages(prefix: string, accountId: string): Promise<{ version: number; pages: number }> {
  const cluster = createRedisCluster({ nodes: [{ host: '127.0.0.1', port: 7000 }] });
  try {
    const version = Number((await cluster.get(`${prefix}${CacheKeys.accountVersion(accountId)}`)) ?? 0);
    const pattern = `${prefix}${CacheKeys.query(accountId, version, '*')}`;
    let pages = 0;
    for (const node of cluster.nodes('master')) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        pages += keys.length;
      } while (cursor !== '0');
    }
    return { version, pages };
  } finally {
    cluster.disconnect();
  }
}

interface Activity {
  id: number;
  total: number;
  state: string;
}

/**
 * Our own infrastructure failing under the product, on the real stack: the Kafka broker SIGKILLed and restarted
 * during an initial sync and during live changes, the Redis Cluster master holding a mailbox's keys SIGKILLed
 * during live traffic and reads, and Postgres restarted during a sync. Each ends with the mirror equal to the
 * emulator's export, no duplicates, and nothing left working or retrying (expectConverged).
 */
describe('infrastructure faults', () => {
  let product: RunningProduct;
  let db: Client;
  let token: string;
  const started = Date.now();

  beforeAll(async () => {
    product = await startProduct({
      isolated: true,
      // small delta pages, so a slowed sync spans the broker's outage and restart
      appEnv: { LOG_LEVEL: 'log', AUTH_REFRESH_RATE_LIMIT_PER_MINUTE: '5', SYNC_PAGE_SIZE: '50' },
    });
    db = new Client({ connectionString: product.databaseUrl });
    db.on('error', () => undefined);
    await db.connect();
    token = (await signUp(product.api)).token;
  }, 180_000);

  afterAll(async () => {
    await db?.end().catch(() => undefined);
    await product?.stop();
  });

  /** a fresh seeded mailbox in the emulator, linked; returns its account id */
  const link = async (address: string, messages: number, seed: number): Promise<string> => {
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address,
      seed: { messages, folders: 3, seed },
    });
    const accountId = /linked=([0-9a-f-]{36})/.exec(await linkOutlook(product, token, address))?.[1];
    if (!accountId) throw new Error('the callback did not name the linked account');
    return accountId;
  };

  /** the account's mirrored message count, read on a fresh connection (the shared one dies with Postgres) */
  const mirrored = async (accountId: string): Promise<number> => {
    const c = new Client({ connectionString: product.databaseUrl });
    c.on('error', () => undefined);
    await c.connect();
    try {
      const r = await c.query<{ n: string }>('SELECT count(*) AS n FROM messages WHERE account_id = $1', [
        accountId,
      ]);
      return Number(r.rows[0]?.n ?? 0);
    } finally {
      await c.end().catch(() => undefined);
    }
  };

  /** waits until the initial sync has mirrored at least `n` messages (and is not done) */
  const syncedAtLeast = (accountId: string, n: number) =>
    waitFor(async () => ((await mirrored(accountId)) >= n ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 100,
      what: `${n} messages mirrored`,
    });

  const startActivity = (address: string, body: Record<string, unknown>) =>
    product.emulator.admin<Activity>('POST', `/_emulator/mailboxes/${address}/activity`, body);
  const activityDone = (address: string, id: number) =>
    waitFor(
      async () =>
        (await product.emulator.admin<Activity>('GET', `/_emulator/mailboxes/${address}/activity/${id}`))
          .state === 'finished'
          ? true
          : undefined,
      { timeoutMs: 120_000, intervalMs: 500, what: 'the activity to finish' },
    );

  const notificationStats = () =>
    product.emulator.admin<{
      notifications: { attempts: number; failed: number; byStatus: Record<string, number> };
    }>('GET', '/_emulator/stats');

  const SYNC_ADDRESS = 'kafka-sync@faults.example';
  let syncAccount = '';

  it('the Kafka broker SIGKILLed during an initial sync: the sync resumes and converges', async () => {
    const t0 = Date.now();
    // Graph answers slowly, so the kill lands well inside the sync
    await product.emulator.admin('POST', '/_emulator/faults', { latencyMs: 1200 });
    syncAccount = await link(SYNC_ADDRESS, 3000, 801);
    await syncedAtLeast(syncAccount, 300);
    const atKill = await mirrored(syncAccount);
    const pid = await killKafkaBroker();
    await new Promise((r) => setTimeout(r, 5000));
    const downCount = await mirrored(syncAccount);
    const back = Date.now();
    await startKafkaBroker();
    const restartMs = Date.now() - back;
    const atRestart = await mirrored(syncAccount);
    await product.emulator.admin('POST', '/_emulator/faults', { latencyMs: 0 });

    await waitForAccountStatus(product.api, token, 'synced', { accountId: syncAccount, timeoutMs: 180_000 });
    const result = await expectConverged(product, [{ accountId: syncAccount, address: SYNC_ADDRESS }], {
      timeoutMs: 180_000,
    });
    expect(atKill).toBeLessThan(3000);
    // the sync was still running when the broker came back: it lived through the outage, not just beside it
    expect(atRestart).toBeLessThan(3000);
    expect(result.messages).toBe(3000);
    recordScenario({
      scenario: 'Kafka broker SIGKILL during an initial sync',
      file: __filename,
      faults: [
        `broker pid ${pid} SIGKILLed at ${atKill} of 3,000 messages mirrored`,
        `down 5 s (${downCount} mirrored meanwhile)`,
        `restarted in ${(restartMs / 1000).toFixed(1)} s (${atRestart} mirrored by then)`,
      ],
      converged: result,
      compared: {},
      durationMs: Date.now() - t0,
    });
  }, 420_000);

  it('the Kafka broker SIGKILLed during live changes: every change reaches the mirror', async () => {
    if (!syncAccount) throw new Error('needs the mailbox of the previous test');
    const t0 = Date.now();
    const before = await notificationStats();
    const run = await startActivity(SYNC_ADDRESS, {
      creates: 60,
      updates: 80,
      moves: 30,
      deletes: 30,
      seconds: 16,
      seed: 802,
    });
    await new Promise((r) => setTimeout(r, 4000));
    const pid = await killKafkaBroker();
    await new Promise((r) => setTimeout(r, 5000));
    await startKafkaBroker();
    await activityDone(SYNC_ADDRESS, run.id);

    const result = await expectConverged(product, [{ accountId: syncAccount, address: SYNC_ADDRESS }], {
      timeoutMs: 240_000,
    });
    const after = await notificationStats();
    const failedDeliveries = after.notifications.failed - before.notifications.failed;
    recordScenario({
      scenario: 'Kafka broker SIGKILL during live changes',
      file: __filename,
      faults: [
        `${run.total} changes over 16 s; broker pid ${pid} SIGKILLed 4 s in, down 5 s`,
        `${failedDeliveries} notification deliveries refused meanwhile (the webhook answers 202 only once Kafka has them; Graph retries)`,
      ],
      converged: result,
      compared: {
        changes: run.total,
      },
      durationMs: Date.now() - t0,
    });
  }, 420_000);

  it('a Redis Cluster master SIGKILLed during live traffic: failover, and no stale read afterwards', async () => {
    if (!syncAccount) throw new Error('needs the mailbox of the previous test');
    const t0 = Date.now();
    const prefix = product.env.REDIS_KEY_PREFIX ?? '';
    const slot = calculateSlot(`${prefix}${CacheKeys.accountVersion(syncAccount)}`);
    const masterPort = await redisMasterForSlot(slot);
    const list = (q = '') =>
      apiCall<{ items: Array<{ id: string; isRead: boolean }> }>(
        product.api,
        'GET',
        `/api/v1/accounts/${syncAccount}/messages?limit=50${q}`,
        { token },
      );

    // live traffic: changes in Outlook, and reads through the API's cache, all the while
    const run = await startActivity(SYNC_ADDRESS, { creates: 40, updates: 60, seconds: 14, seed: 803 });
    const reads: Record<string, number> = {};
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const r = await list().catch(() => ({ status: 0 }));
        reads[r.status] = (reads[r.status] ?? 0) + 1;
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    await new Promise((r) => setTimeout(r, 3000));
    const pid = await killRedisNode(masterPort);
    const failoverMs = await waitRedisFailover(masterPort);
    await activityDone(SYNC_ADDRESS, run.id);
    await restartRedisNode(masterPort);
    reading = false;
    await reader;
    const newMaster = await redisMasterForSlot(slot);
    expect(newMaster).not.toBe(masterPort);
    // every read was answered (from Postgres while the cache was away)
    expect(Object.keys(reads)).toEqual(['200']);

    const converged = await expectConverged(product, [{ accountId: syncAccount, address: SYNC_ADDRESS }], {
      timeoutMs: 180_000,
    });

    // No stale read: each round reads a page (so the cache holds it), changes a listed message in Outlook, waits
    // for the change in Postgres, and then the API must show it (within the instant between the commit and the
    // version bump), never the cached page.
    const rounds = 10;
    let maxStaleMs = 0;
    for (let i = 0; i < rounds; i++) {
      const page = await list();
      expect(page.status).toBe(200);
      const target = page.body.items[i];
      await list(); // a second read is a cache hit
      await product.emulator.admin('PATCH', `/_emulator/mailboxes/${SYNC_ADDRESS}/messages/${target.id}`, {
        isRead: !target.isRead,
      });
      await waitFor(
        async () =>
          (
            await db.query<{ is_read: boolean }>(
              'SELECT is_read FROM messages WHERE account_id = $1 AND remote_id = $2',
              [syncAccount, target.id],
            )
          ).rows[0].is_read === !target.isRead
            ? true
            : undefined,
        { timeoutMs: 30_000, intervalMs: 20, what: 'the change in Postgres' },
      );
      const committed = Date.now();
      await waitFor(
        async () =>
          (await list()).body.items.find((m) => m.id === target.id)?.isRead === !target.isRead
            ? true
            : undefined,
        {
          timeoutMs: 2000,
          intervalMs: 20,
          what: 'the API to show the committed change (a stale cached page?)',
        },
      );
      maxStaleMs = Math.max(maxStaleMs, Date.now() - committed);
    }

    // caching goes on: pages are cached again, on the new master, under the account's current version
    await list();
    const cached = await cachedPages(prefix, syncAccount);
    expect(cached.pages).toBeGreaterThan(0);

    // rate limits go on: the refresh limit (5 a minute here) still answers 429 past its limit
    const refreshes: number[] = [];
    for (let i = 0; i < 7; i++)
      refreshes.push((await apiCall(product.api, 'POST', '/api/v1/auth/refresh')).status);
    expect(refreshes.slice(-1)[0]).toBe(429);

    recordScenario({
      scenario: 'Redis Cluster master SIGKILL during live traffic',
      file: __filename,
      faults: [
        `master :${masterPort} (slot ${slot}, the mailbox's keys) pid ${pid} SIGKILLed during ${run.total} changes and reads every 50 ms`,
        `failover to :${newMaster} in ${(failoverMs / 1000).toFixed(1)} s; the old master rejoined as a replica`,
      ],
      converged,
      compared: {
        readsAnswered200: reads['200'] ?? 0,
        readsFailed: Object.entries(reads).reduce((n, [s, c]) => (s === '200' ? n : n + c), 0),
        staleReadRounds: rounds,
        versionAfter: cached.version,
        pagesCachedAfter: cached.pages,
        maxMsCommitToFreshRead: maxStaleMs,
        refreshStatuses: refreshes.join(' '),
      },
      durationMs: Date.now() - t0,
    });
  }, 420_000);

  it('Postgres restarted during an initial sync: the sync resumes and converges', async () => {
    const t0 = Date.now();
    const address = 'pg-restart@faults.example';
    await product.emulator.admin('POST', '/_emulator/faults', { latencyMs: 40 });
    const accountId = await link(address, 3000, 804);
    await syncedAtLeast(accountId, 300);
    const atStop = await mirrored(accountId);
    const cluster = await restartPostgres(3000);
    await product.emulator.admin('POST', '/_emulator/faults', { latencyMs: 0 });
    await db.end().catch(() => undefined);
    db = new Client({ connectionString: product.databaseUrl });
    db.on('error', () => undefined);
    await db.connect();

    await waitForAccountStatus(product.api, token, 'synced', { accountId, timeoutMs: 180_000 });
    const result = await expectConverged(product, [{ accountId, address }], { timeoutMs: 180_000 });
    expect(result.messages).toBe(3000);
    recordScenario({
      scenario: 'Postgres restarted during an initial sync',
      file: __filename,
      faults: [`${cluster.description} stopped at ${atStop} of 3,000 messages, down 3 s, started`],
      converged: result,
      compared: {},
      durationMs: Date.now() - t0,
    });
    expect(Date.now() - started).toBeGreaterThan(0);
  }, 420_000);
});
