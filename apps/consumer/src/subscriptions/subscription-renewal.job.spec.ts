import { Logger } from '@nestjs/common';
import type { CommandBus } from '@nestjs/cqrs';
import { ProviderUnavailableError } from '@email-core/providers';
import type { KafkaTopics } from '../messaging/kafka-topics';
import type { EnsureSubscriptionCommand } from './commands/ensure-subscription/ensure-subscription.command';
import { EnsureSubscriptionHandler } from './commands/ensure-subscription/ensure-subscription.handler';
import { SubscriptionKeeper } from './subscription-keeper';
import { SubscriptionRenewalJob } from './subscription-renewal.job';
import { FakeGraph, FakeLock, FakeCatchUp, FakeStore, MINUTE, SETTINGS } from './testing/subscription-fakes';

function setup() {
  let clock = Date.parse('2026-11-22T08:00:00.000Z');
  const now = () => clock;
  const graph = new FakeGraph(now);
  const store = new FakeStore(now);
  const catchUp = new FakeCatchUp();
  const lock = new FakeLock();
  const paced: string[] = [];
  const pacer = {
    take: () => {
      paced.push(graph.log.at(-1) ?? '');
      return Promise.resolve();
    },
  };
  const keeper = new SubscriptionKeeper(store.accountsRepo, store.repo, graph, catchUp.port, SETTINGS, pacer);
  keeper.now = now;
  const handler = new EnsureSubscriptionHandler(lock.port, keeper);
  const executed: EnsureSubscriptionCommand[] = [];
  const bus = {
    execute: (cmd: EnsureSubscriptionCommand) => {
      executed.push(cmd);
      return handler.execute(cmd);
    },
  } as unknown as CommandBus;
  const job = new SubscriptionRenewalJob(store.repo, keeper, bus, {} as KafkaTopics, SETTINGS, graph);
  return { graph, store, lock, keeper, job, executed, paced, now, advance: (ms: number) => (clock += ms) };
}

describe('SubscriptionRenewalJob.sweep', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it('creates subscriptions for synced accounts without one, and only for those', async () => {
    const { store, graph, job, now } = setup();
    store.accounts.set('a', 'synced');
    store.accounts.set('b', 'synced');
    store.accounts.set('syncing', 'syncing');
    store.accounts.set('reauth', 'reauth_required');
    await job.sweep(now());
    expect(graph.of('a')).toHaveLength(1);
    expect(graph.of('b')).toHaveLength(1);
    expect(graph.of('syncing')).toHaveLength(0);
    expect(graph.of('reauth')).toHaveLength(0);
  });

  it('renews what expires within the threshold, with the lock tried once (a renewal, never waiting)', async () => {
    const { store, graph, job, executed, now, advance } = setup();
    store.accounts.set('a', 'synced');
    await job.sweep(now());
    const id = graph.of('a')[0].id;
    executed.length = 0;
    await job.sweep(now());
    expect(executed).toEqual([]); // nothing due
    advance((SETTINGS.lifetimeMinutes - SETTINGS.renewBeforeMinutes + 1) * MINUTE);
    await job.sweep(now());
    expect(executed.map((c) => [c.accountId, c.reason, c.lockMode])).toEqual([['a', 'renewal', 'skip']]);
    expect(graph.of('a').map((s) => s.id)).toEqual([id]);
    expect(graph.of('a')[0].expirationDateTime.getTime()).toBe(now() + SETTINGS.lifetimeMinutes * MINUTE);
  });

  it('skips an account another worker holds, and acts on it next time', async () => {
    const { store, graph, job, lock, now } = setup();
    store.accounts.set('a', 'synced');
    lock.held.add('a');
    await job.sweep(now());
    expect(graph.of('a')).toHaveLength(0);
    lock.held.delete('a');
    await job.sweep(now());
    expect(graph.of('a')).toHaveLength(1);
  });

  it('backs off an account whose ensure keeps failing, without holding up the others', async () => {
    const { store, graph, job, now, advance } = setup();
    store.accounts.set('a', 'synced');
    store.accounts.set('b', 'synced');
    const forAccount = graph.forAccount.bind(graph);
    let failing = true;
    graph.forAccount = (id) => {
      const mailbox = forAccount(id);
      return id === 'a' && failing && mailbox.kind === 'channels'
        ? {
            ...mailbox,
            list: () => Promise.reject(new ProviderUnavailableError(503, 'ServiceUnavailable', 'x')),
          }
        : mailbox;
    };
    await job.sweep(now());
    expect(graph.of('b')).toHaveLength(1);
    failing = false;
    await job.sweep(now()); // still backing off
    expect(graph.of('a')).toHaveLength(0);
    advance(2 * SETTINGS.checkIntervalMs);
    await job.sweep(now());
    expect(graph.of('a')).toHaveLength(1);
  });

  it('sweeps only accounts of providers watched through channels (IMAP accounts have no subscription to miss)', async () => {
    const { store, graph, job, executed, now } = setup();
    store.accounts.set('a', 'synced');
    store.accounts.set('i1', 'synced');
    store.accounts.set('i2', 'synced');
    store.providers.set('i1', 'imap');
    store.providers.set('i2', 'imap');
    await job.sweep(now());
    expect(executed.map((c) => c.accountId)).toEqual(['a']);
    expect(graph.of('a')).toHaveLength(1);
    expect(graph.asked.map((a) => a.accountId)).toEqual(['a']);
    executed.length = 0;
    await job.sweep(now());
    expect(executed).toEqual([]); // nothing due, and no IMAP account comes back every sweep
  });

  it('renews every due subscription in one sweep, page after page, each write drawing on the write pace', async () => {
    const { store, graph, job, executed, paced, now, advance } = setup();
    const ids = Array.from({ length: 450 }, (_, i) => `acct-${String(i).padStart(3, '0')}`);
    for (const id of ids) store.accounts.set(id, 'synced');
    await job.sweep(now()); // creates all 450 (three pages of accounts without one)
    expect(ids.filter((id) => graph.of(id).length === 1)).toHaveLength(450);
    expect(paced).toHaveLength(450);
    executed.length = 0;
    paced.length = 0;
    advance((SETTINGS.lifetimeMinutes - SETTINGS.renewBeforeMinutes + 1) * MINUTE);
    await job.sweep(now());
    expect(executed.map((c) => c.accountId).sort()).toEqual(ids);
    expect(paced).toHaveLength(450);
    for (const id of ids) {
      expect(graph.of(id)[0].expirationDateTime.getTime()).toBe(now() + SETTINGS.lifetimeMinutes * MINUTE);
    }
  });

  it('does not come back to an account without a subscription that failed, within the same sweep', async () => {
    const { store, graph, job, executed, now } = setup();
    store.accounts.set('a', 'synced');
    store.accounts.set('b', 'synced');
    const forAccount = graph.forAccount.bind(graph);
    graph.forAccount = (id) => {
      const mailbox = forAccount(id);
      return id === 'a' && mailbox.kind === 'channels'
        ? {
            ...mailbox,
            list: () => Promise.reject(new ProviderUnavailableError(503, 'ServiceUnavailable', 'x')),
          }
        : mailbox;
    };
    await job.sweep(now());
    expect(executed.map((c) => c.accountId).sort()).toEqual(['a', 'b']);
  });
});
