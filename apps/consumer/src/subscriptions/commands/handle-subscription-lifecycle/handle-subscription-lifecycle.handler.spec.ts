import { Logger } from '@nestjs/common';
import type { SubscriptionLifecycle } from '@email-core/contracts';
import { SubscriptionLockBusyError } from '../../subscription-errors';
import { SubscriptionKeeper } from '../../subscription-keeper';
import {
  FakeGraph,
  FakeLock,
  FakeCatchUp,
  FakeStore,
  MINUTE,
  SETTINGS,
} from '../../testing/subscription-fakes';
import { HandleSubscriptionLifecycleCommand } from './handle-subscription-lifecycle.command';
import { HandleSubscriptionLifecycleHandler } from './handle-subscription-lifecycle.handler';

const A = '3f0c1f7e-5d0a-4a53-9a53-2b8f7f9b8a11';

async function setup() {
  let clock = Date.parse('2026-11-22T08:00:00.000Z');
  const now = () => clock;
  const graph = new FakeGraph(now);
  const store = new FakeStore(now);
  const catchUp = new FakeCatchUp();
  const lock = new FakeLock();
  const keeper = new SubscriptionKeeper(store.accountsRepo, store.repo, graph, catchUp.port, SETTINGS);
  keeper.now = now;
  store.accounts.set(A, 'synced');
  await keeper.ensure(A);
  catchUp.requests.length = 0;
  graph.log.length = 0;
  const handler = new HandleSubscriptionLifecycleHandler(lock.port, keeper, store.repo, catchUp.port);
  const current = () => store.rows.get(A)?.subscriptionId ?? '';
  const run = (lifecycleEvent: SubscriptionLifecycle['lifecycleEvent'], subscriptionId = current()) =>
    handler.execute(
      new HandleSubscriptionLifecycleCommand({
        type: 'subscription.lifecycle',
        v: 1,
        accountId: A,
        subscriptionId,
        lifecycleEvent,
        receivedAt: new Date(clock).toISOString(),
      }),
    );
  return { graph, store, catchUp, lock, run, current, advance: (ms: number) => (clock += ms), now };
}

describe('HandleSubscriptionLifecycleHandler', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it('reauthorizationRequired renews the subscription (same id, later expiry)', async () => {
    const { run, graph, current, advance, now } = await setup();
    const id = current();
    advance(60 * MINUTE);
    await expect(run('reauthorizationRequired')).resolves.toBe('renewed');
    expect(current()).toBe(id);
    expect(graph.log).toContain(`renew ${id}`);
    expect(graph.subs.get(id)?.expirationDateTime.getTime()).toBe(now() + SETTINGS.lifetimeMinutes * MINUTE);
  });

  it('reauthorizationRequired for a subscription Graph no longer has recreates it', async () => {
    const { run, graph, current } = await setup();
    const id = current();
    graph.subs.delete(id);
    await expect(run('reauthorizationRequired', id)).resolves.toBe('renewed');
    expect(current()).not.toBe(id);
    expect(graph.of(A)).toHaveLength(1);
  });

  it('subscriptionRemoved forgets it, creates a new one and asks for a catch-up round', async () => {
    const { run, graph, current, catchUp } = await setup();
    const id = current();
    graph.subs.delete(id); // Graph removed it
    await expect(run('subscriptionRemoved', id)).resolves.toBe('recreated');
    expect(current()).not.toBe(id);
    expect(graph.of(A).map((s) => s.id)).toEqual([current()]);
    expect(catchUp.requests).toEqual([A]);
  });

  it('a redelivered subscriptionRemoved (row already forgotten) still ends with one subscription', async () => {
    const { run, graph, current, store } = await setup();
    const id = current();
    graph.subs.delete(id);
    store.rows.delete(A); // the first delivery got this far, then crashed
    await expect(run('subscriptionRemoved', id)).resolves.toBe('recreated');
    expect(graph.of(A)).toHaveLength(1);
    expect(current()).toBe(graph.of(A)[0].id);
  });

  it('missed asks for a catch-up round, whichever subscription it names', async () => {
    const { run, catchUp, graph } = await setup();
    await expect(run('missed')).resolves.toBe('caught_up');
    await expect(run('missed', 'an-old-subscription')).resolves.toBe('caught_up');
    expect(catchUp.requests).toEqual([A, A]);
    expect(graph.log).toEqual([]);
  });

  it('ignores renew and remove events for a subscription the account has replaced', async () => {
    const { run, graph, catchUp, current } = await setup();
    const id = current();
    await expect(run('reauthorizationRequired', 'replaced-one')).resolves.toBe('ignored');
    await expect(run('subscriptionRemoved', 'replaced-one')).resolves.toBe('ignored');
    expect(current()).toBe(id);
    expect(graph.log).toEqual([]);
    expect(catchUp.requests).toEqual([]);
  });

  it('fails (to be retried) while another worker holds the account lock', async () => {
    const { run, lock } = await setup();
    lock.held.add(A);
    await expect(run('subscriptionRemoved')).rejects.toBeInstanceOf(SubscriptionLockBusyError);
  });
});
