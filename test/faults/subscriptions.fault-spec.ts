import { Client } from 'pg';
import {
  exportedState,
  expectConverged,
  linkOutlook,
  mirroredState,
  recordScenario,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  waitForCatchUpRound,
  type RunningProduct,
} from '@email-core/testing';

/** `GET /_emulator/subscriptions` */
interface EmulatorSubscription {
  id: string;
  address: string;
  state: string;
}

/** the emulator's notification delivery counters (`GET /_emulator/stats`) */
interface NotificationStats {
  attempts: number;
  deliveredItems: number;
  failed: number;
  dropped: number;
}

interface Activity {
  id: number;
  total: number;
  done: number;
  state: string;
}

/** Each scenario's live changes: adds, updates, moves and deletes, made by the emulator's admin API. */
const CHANGES = { creates: 15, updates: 15, moves: 10, deletes: 10 };

/**
 * Starts an isolated product for a describe block (signed-up user, a Postgres client) and stops it after; resets
 * the emulator's notification faults after each test. The helpers are bound to that product and its user.
 */
function productForSuite(options: Parameters<typeof startProduct>[0]) {
  let product: RunningProduct | undefined;
  let db: Client | undefined;
  let token = '';
  const running = () => {
    if (!product || !db) throw new Error('the product is not started (beforeAll failed?)');
    return { product, db, admin: product.emulator.admin };
  };

  beforeAll(async () => {
    product = await startProduct(options);
    db = new Client({ connectionString: product.databaseUrl });
    await db.connect();
    token = (await signUp(product.api)).token;
  }, 180_000);

  afterAll(async () => {
    await db?.end();
    await product?.stop();
  });

  afterEach(async () => {
    await kit.faults({ notifications: { drop: 0, duplicate: 0, delayMs: 0, reorder: false } });
  });

  const kit = {
    get product(): RunningProduct {
      return running().product;
    },
    createMailbox: (address: string, messages: number, seed: number) =>
      running().admin('POST', '/_emulator/mailboxes', { address, seed: { messages, folders: 3, seed } }),
    /** Links the mailbox as its user would and waits for the first sync; resolves with the account id. */
    linkAndSync: async (address: string): Promise<string> => {
      const dashboard = await linkOutlook(running().product, token, address);
      const accountId = /linked=([0-9a-f-]{36})/.exec(dashboard)?.[1];
      if (!accountId) throw new Error(`no linked=<id> in ${dashboard}`);
      await waitForAccountStatus(running().product.api, token, 'synced', { accountId, timeoutMs: 150_000 });
      return accountId;
    },
    activeSubscriptions: async (address: string): Promise<EmulatorSubscription[]> =>
      (
        await running().admin<{ value: EmulatorSubscription[] }>('GET', '/_emulator/subscriptions')
      ).value.filter((s) => s.address === address && s.state === 'active'),
    /** the mailbox's one live subscription, once the product created it */
    subscriptionOf: (address: string, other?: string) =>
      waitFor(
        async () => {
          const subs = await kit.activeSubscriptions(address);
          return subs.length === 1 && subs[0].id !== other ? subs[0] : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 250, what: `a ${other ? 'new ' : ''}subscription for ${address}` },
      ),
    notificationStats: async (): Promise<NotificationStats> =>
      (await running().admin<{ notifications: NotificationStats }>('GET', '/_emulator/stats')).notifications,
    /** adds, updates, moves and deletes mail, and resolves once all of it happened in the mailbox */
    changeMail: (address: string, seed: number) =>
      running().admin<Activity>('POST', `/_emulator/mailboxes/${address}/activity`, {
        ...CHANGES,
        seed,
        wait: true,
      }),
    fireLifecycle: (subscriptionId: string, event: 'subscriptionRemoved' | 'missed') =>
      running().admin<{ sent: boolean }>('POST', `/_emulator/subscriptions/${subscriptionId}/lifecycle`, {
        event,
      }),
    faults: (body: Record<string, unknown>) => running().admin('POST', '/_emulator/faults', body),
    /** true when Postgres holds the mailbox exactly as the emulator's export does */
    inSync: async (accountId: string, address: string) =>
      JSON.stringify(await mirroredState(running().db, accountId)) ===
      JSON.stringify(await exportedState(running().admin, address)),
  };
  return kit;
}

/**
 * Issue 8, subscriptions: a subscription Microsoft removed, and change notifications it never delivered. Mail
 * changes (adds, updates, moves, deletes) while the product cannot hear of them, and the product must find out
 * on its own: by recreating the subscription (and catching up), by the `missed` lifecycle event, or, when Graph
 * drops notifications silently, by its periodic reconciliation.
 */
describe('subscriptions: a removed subscription, dropped notifications', () => {
  describe('lifecycle events (reconciliation off, so only the lifecycle handling can recover)', () => {
    const kit = productForSuite({
      isolated: true,
      appEnv: { LOG_LEVEL: 'warn', RECONCILE_INTERVAL_SECONDS: '0' },
    });

    it('subscriptionRemoved while mail changes: the product recreates the subscription and catches up', async () => {
      const started = Date.now();
      const address = 'removed@subscriptions.example';
      await kit.createMailbox(address, 250, 11);
      const accountId = await kit.linkAndSync(address);
      const old = await kit.subscriptionOf(address);

      // The consumer is paused (SIGSTOP) for the moment of the removal, so the product cannot recreate the
      // subscription before the mail has changed: these changes happen while the mailbox has no subscription at
      // all, and no notification can ever tell of them.
      kit.product.consumer.child.kill('SIGSTOP');
      let activity: Activity;
      let goneWhileChanging: number;
      let staleMirror: boolean;
      try {
        const fired = await kit.fireLifecycle(old.id, 'subscriptionRemoved');
        expect(fired.sent).toBe(true);
        activity = await kit.changeMail(address, 21);
        goneWhileChanging = (await kit.activeSubscriptions(address)).length;
        staleMirror = !(await kit.inSync(accountId, address));
      } finally {
        kit.product.consumer.child.kill('SIGCONT');
      }
      expect(goneWhileChanging).toBe(0);
      expect(activity.done).toBe(activity.total);
      expect(staleMirror).toBe(true);

      const recreated = await kit.subscriptionOf(address, old.id);
      const converged = await expectConverged(kit.product, [{ accountId, address }], { timeoutMs: 150_000 });
      // exactly one live subscription for the mailbox, the new one
      const live = await kit.activeSubscriptions(address);
      expect(live.map((s) => s.id)).toEqual([recreated.id]);
      expect(recreated.id).not.toBe(old.id);
      expect(converged.messages).toBeGreaterThan(0);

      recordScenario({
        scenario: 'subscriptionRemoved lifecycle event, mail changed while no subscription existed',
        file: __filename,
        faults: [
          `subscription ${old.id.slice(0, 8)}… removed by Microsoft (lifecycle subscriptionRemoved)`,
          `${activity.total} changes (${CHANGES.creates} adds, ${CHANGES.updates} updates, ${CHANGES.moves} moves, ${CHANGES.deletes} deletes) while it was gone`,
        ],
        converged,
        compared: {
          subscriptionsWhileGone: goneWhileChanging,
          liveSubscriptionsAfter: live.length,
          subscriptionReplaced: recreated.id !== old.id,
        },
        durationMs: Date.now() - started,
      });
    }, 240_000);

    it('every notification dropped, then the missed lifecycle event: the product catches up and converges', async () => {
      const started = Date.now();
      const address = 'missed@subscriptions.example';
      await kit.createMailbox(address, 250, 12);
      const accountId = await kit.linkAndSync(address);
      const sub = await kit.subscriptionOf(address);

      await kit.faults({ notifications: { drop: 1 } });
      const before = await kit.notificationStats();
      const activity = await kit.changeMail(address, 22);
      const after = await kit.notificationStats();
      await kit.faults({ notifications: { drop: 0 } });
      const dropped = after.dropped - before.dropped;
      expect(activity.done).toBe(activity.total);
      expect(dropped).toBeGreaterThan(0);
      expect(after.deliveredItems - before.deliveredItems).toBe(0);
      // nothing told the product (and reconciliation is off): the mirror is stale
      expect(await kit.inSync(accountId, address)).toBe(false);

      const fired = await kit.fireLifecycle(sub.id, 'missed');
      expect(fired.sent).toBe(true);
      const converged = await expectConverged(kit.product, [{ accountId, address }], { timeoutMs: 150_000 });
      // the same subscription goes on: `missed` asks for a catch-up round, it does not replace anything
      expect((await kit.activeSubscriptions(address)).map((s) => s.id)).toEqual([sub.id]);

      recordScenario({
        scenario: 'notifications all dropped (drop 1.0), recovered through the missed lifecycle event',
        file: __filename,
        faults: [
          `notifications drop 1.0 during ${activity.total} changes (adds, updates, moves, deletes)`,
          'lifecycle missed',
          'RECONCILE_INTERVAL_SECONDS=0',
        ],
        converged,
        compared: {
          notificationsDropped: dropped,
          notificationsDelivered: after.deliveredItems - before.deliveredItems,
        },
        durationMs: Date.now() - started,
      });
    }, 240_000);
  });

  describe('periodic reconciliation (RECONCILE_INTERVAL_SECONDS=15, two consumers)', () => {
    const INTERVAL_SECONDS = 15;
    let productStarted = 0;
    beforeAll(() => {
      productStarted = Date.now();
    });
    const kit = productForSuite({
      isolated: true,
      consumers: 2,
      // `log`: each reconciliation logs one line, counted below
      appEnv: { LOG_LEVEL: 'log', RECONCILE_INTERVAL_SECONDS: String(INTERVAL_SECONDS) },
    });

    /** reconciliations started, over every consumer process */
    const rounds = () =>
      kit.product.consumers.reduce(
        (n, c) => n + (c.output().match(/reconciliation: \d+ synced account\(s\)/g)?.length ?? 0),
        0,
      );

    /** reconciliations that asked at least one account for a round (the mailbox of the test is the only one) */
    const accountRounds = () =>
      kit.product.consumers.reduce(
        (n, c) => n + (c.output().match(/reconciliation: [1-9]\d* synced account\(s\)/g)?.length ?? 0),
        0,
      );

    it('Graph drops every notification silently (no missed event): the reconciliation converges the mirror', async () => {
      const started = Date.now();
      const address = 'silent@subscriptions.example';
      await kit.createMailbox(address, 250, 13);
      // counted from before the link: a round published just before the changes, and run after them, is the
      // one that brings them in (its log line is written when it is published)
      const roundsBefore = accountRounds();
      const accountId = await kit.linkAndSync(address);
      await kit.subscriptionOf(address);
      // everything the link set off (the catch-up round after the subscription) is done first, so nothing but a
      // reconciliation can bring in the changes below (clean-clone runs converged through that late round)
      await expectConverged(kit.product, [{ accountId, address }], { timeoutMs: 60_000 });
      await waitForCatchUpRound(kit.product, accountId);

      await kit.faults({ notifications: { drop: 1 } });
      const before = await kit.notificationStats();
      const changedAt = Date.now();
      const activity = await kit.changeMail(address, 23);
      expect(activity.done).toBe(activity.total);

      // No notification arrives and no lifecycle event is sent: only a reconciliation round can bring the
      // mirror back. Watched here, so the end check's quiet window starts right after the round that did it
      // (a round every 15 s also asks Graph, and must not fall into that window).
      await waitFor(async () => ((await kit.inSync(accountId, address)) ? true : undefined), {
        timeoutMs: 120_000,
        intervalMs: 200,
        what: `${address} to equal the export`,
      });
      const convergedSeconds = (Date.now() - changedAt) / 1000;
      const converged = await expectConverged(kit.product, [{ accountId, address }], { timeoutMs: 60_000 });
      const after = await kit.notificationStats();
      const dropped = after.dropped - before.dropped;
      expect(dropped).toBeGreaterThan(0);
      expect(after.deliveredItems - before.deliveredItems).toBe(0);
      const reconciled = accountRounds() - roundsBefore;
      expect(reconciled).toBeGreaterThan(0);
      // one round per interval at most, whichever of the two consumers claims it
      const total = rounds();
      const intervals = Math.floor((Date.now() - productStarted) / (INTERVAL_SECONDS * 1000));
      expect(total).toBeLessThanOrEqual(intervals);

      recordScenario({
        scenario:
          'notifications dropped silently (drop 1.0, no missed), recovered by periodic reconciliation',
        file: __filename,
        faults: [
          `notifications drop 1.0 during ${activity.total} changes (adds, updates, moves, deletes)`,
          `RECONCILE_INTERVAL_SECONDS=${INTERVAL_SECONDS}, 2 consumers`,
        ],
        converged,
        compared: {
          notificationsDropped: dropped,
          notificationsDelivered: after.deliveredItems - before.deliveredItems,
          convergedAfterSeconds: Number(convergedSeconds.toFixed(1)),
          reconciliationRounds: total,
          intervalsElapsed: intervals,
        },
        durationMs: Date.now() - started,
      });
    }, 240_000);
  });
});
