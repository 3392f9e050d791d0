import { randomUUID } from 'node:crypto';
import { Test } from '@nestjs/testing';
import type { Cluster } from 'ioredis';
import { DataSource } from 'typeorm';
import { createRedisCluster, REDIS_CLUSTER } from '@email-core/cache';
import {
  createDataSource,
  GraphSubscriptionsRepository,
  MailAccountsRepository,
  MailAccountSyncRepository,
  OutboxRepository,
} from '@email-core/database';
import { GraphSubscriptionsClient, type FetchLike } from '@email-core/graph';
import { OutlookProvider, OutlookWatch, ProviderRegistry, type MailboxWatch } from '@email-core/providers';
import { currentTestRun, seededRandom } from '@email-core/testing';
import { UnlinkAccountCommand } from '../../apps/producer/src/accounts/commands/unlink-account/unlink-account.command';
import { UnlinkAccountHandler } from '../../apps/producer/src/accounts/commands/unlink-account/unlink-account.handler';
import { AccountWrites } from '../../apps/producer/src/accounts/account-writes';
import { SyncRequestOutbox } from '../../apps/producer/src/accounts/sync-request-outbox';
import { OutboxSignal } from '../../apps/producer/src/outbox/outbox-signal';
import { CatchUpRequests } from '../../apps/consumer/src/subscriptions/catch-up-requests';
import { SubscriptionKeeper } from '../../apps/consumer/src/subscriptions/subscription-keeper';
import { SUBSCRIPTION_SETTINGS } from '../../apps/consumer/src/subscriptions/subscription.settings';
import { MAILBOX_WATCHES, type MailboxWatches } from '../../apps/consumer/src/subscriptions/watches';

const ROUNDS = 50;
const NOTIFICATION_URL = 'https://hooks.example/api/v1/graph/notifications';

interface ProviderSubscription {
  id: string;
  mailbox: string;
  body: Record<string, unknown>;
}

const json = (status: number, body: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Graph's `/subscriptions` as a fake at the HTTP boundary only (the real GraphSubscriptionsClient talks to it):
 * what lives "at Microsoft" after the race is exactly what this map holds. `onCreate` lets a round start the
 * unlink once the POST has reached the provider, and `answerDelayMs` holds the answer back, so the row is
 * recorded at a different point of the unlink in every round.
 */
class FakeGraphSubscriptions {
  readonly live = new Map<string, ProviderSubscription>();
  /** the mailboxes a subscription was ever created for */
  readonly created = new Set<string>();
  onCreate: (() => void) | undefined;
  answerDelayMs = 0;

  fetchFor(mailbox: string): FetchLike {
    return async (input, init) => {
      const url = new URL(input);
      const method = (init?.method ?? 'GET').toUpperCase();
      const [, , collection, id] = url.pathname.split('/'); // /v1.0/subscriptions/{id}
      if (collection !== 'subscriptions') return json(404, { error: { code: 'NotFound', message: input } });
      if (method === 'GET' && !id) {
        const value = [...this.live.values()].filter((s) => s.mailbox === mailbox).map((s) => s.body);
        return json(200, { value });
      }
      if (method === 'POST' && !id) {
        const body = JSON.parse(typeof init?.body === 'string' ? init.body : '{}') as Record<string, unknown>;
        const sub = { id: randomUUID(), mailbox, body: { ...body, id: '' } };
        sub.body.id = sub.id;
        this.live.set(sub.id, sub);
        this.created.add(mailbox);
        this.onCreate?.();
        if (this.answerDelayMs > 0) await sleep(this.answerDelayMs);
        return json(201, sub.body);
      }
      if (method === 'DELETE' && id) {
        const existed = this.live.get(id)?.mailbox === mailbox && this.live.delete(id);
        return existed ? json(204, undefined) : json(404, { error: { code: 'NotFound', message: id } });
      }
      return json(405, { error: { code: 'MethodNotAllowed', message: `${method} ${url.pathname}` } });
    };
  }
}

/**
 * Issue 17, the unlink race, on the real Postgres: a subscription created while its account is being unlinked
 * must never live on at the provider without a `subscription_removals` row (which the removal consumer deletes
 * it by). Each round links an account, then runs the subscription keeper's `ensure` (which creates one) and the
 * unlink handler concurrently, at varied timings: the unlink started with the ensure, or once the POST reached
 * the provider; the provider's answer held back 0-6 ms; in half the rounds a concurrent sync transaction holds
 * the account row (as a folder or message insert does) so the unlink's DELETE waits. Afterwards every
 * subscription the provider still has is named by a removal row of that account.
 */
describe('unlink racing a new subscription (real Postgres, a fake Graph at the HTTP boundary)', () => {
  const run = currentTestRun();
  const dataSource = createDataSource({ url: run.databaseUrl, poolSize: 6 });
  const provider = new FakeGraphSubscriptions();
  const random = seededRandom(17);
  let keeper: SubscriptionKeeper;
  let unlink: UnlinkAccountHandler;

  const mailboxSubscriptions = (mailbox: string): MailboxWatch =>
    new OutlookWatch(
      GraphSubscriptionsClient.create({
        graphBaseUrl: 'https://graph.test',
        mailboxKey: mailbox,
        getAccessToken: () => Promise.resolve('token'),
        fetch: provider.fetchFor(mailbox),
        retry: { maxAttempts: 1 },
      }),
    );
  const graph: MailboxWatches = {
    forAccount: (accountId) => mailboxSubscriptions(accountId),
    forRemoval: (removal) => mailboxSubscriptions(removal.accountId),
    channelProviders: () => ['outlook'],
  };

  // the unlink records its write for the read side (issue 21) in the run's Redis Cluster
  let redis: Cluster;

  beforeAll(async () => {
    await dataSource.initialize();
    const run = currentTestRun();
    redis = createRedisCluster({ nodes: run.redisClusterNodes, keyPrefix: run.redisKeyPrefix });
    const consumerSide = await Test.createTestingModule({
      providers: [
        SubscriptionKeeper,
        { provide: MailAccountSyncRepository, useValue: new MailAccountSyncRepository(dataSource) },
        { provide: GraphSubscriptionsRepository, useValue: new GraphSubscriptionsRepository(dataSource) },
        { provide: MAILBOX_WATCHES, useValue: graph },
        // the catch-up round after a create goes to Kafka; not part of this race
        { provide: CatchUpRequests, useValue: { request: () => Promise.resolve() } },
        {
          provide: SUBSCRIPTION_SETTINGS,
          useValue: {
            notificationUrl: NOTIFICATION_URL,
            lifecycleUrl: 'https://hooks.example/api/v1/graph/lifecycle',
            lifetimeMinutes: 4200,
            renewBeforeMinutes: 720,
            checkIntervalMs: 60_000,
          },
        },
      ],
    }).compile();
    keeper = consumerSide.get(SubscriptionKeeper);
    const producerSide = await Test.createTestingModule({
      providers: [
        UnlinkAccountHandler,
        SyncRequestOutbox,
        OutboxSignal,
        AccountWrites,
        { provide: REDIS_CLUSTER, useValue: redis },
        { provide: DataSource, useValue: dataSource },
        { provide: MailAccountsRepository, useValue: new MailAccountsRepository(dataSource) },
        { provide: OutboxRepository, useValue: new OutboxRepository(dataSource) },
        // unlinking only makes the account's adapter forget what this process holds of its credentials
        {
          provide: ProviderRegistry,
          useValue: new ProviderRegistry(
            [
              OutlookProvider.create({
                graphBaseUrl: 'https://graph.test',
                accessToken: () => Promise.resolve('token'),
              }),
            ],
            ['outlook'],
          ),
        },
      ],
    }).compile();
    unlink = producerSide.get(UnlinkAccountHandler);
  });

  afterAll(async () => {
    await redis?.quit();
    await dataSource.destroy();
  });

  const linkAccount = async (round: number) => {
    const userId = randomUUID();
    const accountId = randomUUID();
    await dataSource.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')`, [
      userId,
      `race-${userId}@example.test`,
    ]);
    await dataSource.query(
      `INSERT INTO mail_accounts (id, user_id, external_user_id, email, status) VALUES ($1, $2, $3, $4, 'synced')`,
      [accountId, userId, `ext-${accountId}`, `race-${round}@contoso.example`],
    );
    if (round % 4 === 3) {
      // a subscription Microsoft no longer has: ensure replaces the row (ON CONFLICT) with a new one
      await dataSource.query(
        `INSERT INTO graph_subscriptions (account_id, subscription_id, client_state_hash, resource, expires_at)
         VALUES ($1, $2, 'h', 'me/messages', now() + interval '1 day')`,
        [accountId, `gone-${accountId}`],
      );
    }
    return { userId, accountId };
  };

  /** a sync transaction that wrote into the account (FOR KEY SHARE on its row, as an FK insert takes) */
  const holdAccountRow = async (accountId: string, ms: number) => {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    await runner.query(`SELECT 1 FROM mail_accounts WHERE id = $1 FOR KEY SHARE`, [accountId]);
    return (async () => {
      try {
        await sleep(ms);
        await runner.commitTransaction();
      } finally {
        await runner.release();
      }
    })();
  };

  it(`${ROUNDS} times: no subscription lives on at the provider without a removal row`, async () => {
    const orphans: string[] = [];
    const failures: string[] = [];
    /** how each round ended: the new subscription in the removal bookkeeping, or refused and deleted by its creator */
    const endings = { captured: 0, refusedAndDeleted: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const { userId, accountId } = await linkAccount(round);
      provider.answerDelayMs = Math.floor(random() * 7);
      const holder =
        round % 2 === 1 ? await holdAccountRow(accountId, 5 + Math.floor(random() * 20)) : Promise.resolve();
      let unlinking: Promise<void> | undefined;
      const startUnlink = () => {
        unlinking ??= unlink.execute(new UnlinkAccountCommand(userId, accountId));
      };
      const unlinkFirst = round % 5 === 0;
      provider.onCreate = unlinkFirst ? undefined : startUnlink;
      const ensuring = keeper.ensure(accountId);
      if (unlinkFirst) startUnlink();
      const [ensured] = await Promise.allSettled([ensuring, holder]);
      provider.onCreate = undefined;
      startUnlink(); // in case the keeper never reached the POST (it found the account gone first)
      await unlinking;
      // the keeper answers (skipped or created), it does not fail on a race
      if (ensured.status === 'rejected') failures.push(`round ${round}: ${String(ensured.reason)}`);

      const account: unknown[] = await dataSource.query(`SELECT 1 FROM mail_accounts WHERE id = $1`, [
        accountId,
      ]);
      expect(account).toHaveLength(0);
      const removals: Array<{ subscription_id: string }> = await dataSource.query(
        `SELECT subscription_id FROM subscription_removals WHERE account_id = $1`,
        [accountId],
      );
      const removed = new Set(removals.map((r) => r.subscription_id));
      if (ensured.status === 'fulfilled' && ensured.value === 'skipped' && provider.created.has(accountId)) {
        endings.refusedAndDeleted++;
      }
      for (const sub of provider.live.values()) {
        if (sub.mailbox !== accountId) continue;
        if (removed.has(sub.id)) endings.captured++;
        else orphans.push(`round ${round}: ${sub.id}`);
        // the removal consumer's part, so the next rounds' provider holds only their own
        provider.live.delete(sub.id);
      }
    }
    expect(orphans).toEqual([]);
    expect(failures).toEqual([]);
    // the timings reached both sides of the lock
    expect(endings.captured).toBeGreaterThan(0);
    expect(endings.refusedAndDeleted).toBeGreaterThan(0);
  });
});
