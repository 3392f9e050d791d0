import { Logger } from '@nestjs/common';
import { ProviderRefusedError, ProviderUnavailableError, ReauthRequiredError } from '@email-core/providers';
import { FakeGraph, FakeStore } from '../../testing/subscription-fakes';
import { DeleteSubscriptionCommand } from './delete-subscription.command';
import { DeleteSubscriptionHandler } from './delete-subscription.handler';

const A = '5c0c1f7e-5d0a-4a53-9a53-2b8f7f9b8a11';
const REMOVAL = '6d0c1f7e-5d0a-4a53-9a53-2b8f7f9b8a11';

function setup() {
  const now = () => Date.now();
  const graph = new FakeGraph(now);
  const store = new FakeStore(now);
  const sub = graph.add(A);
  store.removals.set(REMOVAL, {
    id: REMOVAL,
    accountId: A,
    subscriptionId: sub,
    keyId: 'k1',
    accessTokenEnc: 'sealed',
    accessTokenExpiresAt: new Date(),
    refreshTokenEnc: 'sealed',
  });
  const handler = new DeleteSubscriptionHandler(store.repo, graph);
  const run = () => handler.execute(new DeleteSubscriptionCommand(A, REMOVAL));
  return { graph, store, sub, run };
}

describe('DeleteSubscriptionHandler', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it('deletes the subscription at Graph, then the removal row', async () => {
    const { graph, store, sub, run } = setup();
    await expect(run()).resolves.toBe('deleted');
    expect(graph.subs.has(sub)).toBe(false);
    expect(store.removals.size).toBe(0);
  });

  it('is done when Graph no longer has it, and when redelivered after it finished', async () => {
    const { graph, store, sub, run } = setup();
    graph.subs.delete(sub);
    await expect(run()).resolves.toBe('deleted');
    expect(store.removals.size).toBe(0);
    await expect(run()).resolves.toBe('done-before');
  });

  it('gives up on a dead refresh token or a refusal (the subscription expires on its own)', async () => {
    for (const err of [
      new ReauthRequiredError('refresh token revoked (invalid_grant, AADSTS50173)'),
      new ProviderRefusedError(403, 'ErrorAccessDenied', 'Access is denied.'),
    ]) {
      const { graph, store, run } = setup();
      graph.failRemoval = err;
      await expect(run()).resolves.toBe('abandoned');
      expect(store.removals.size).toBe(0);
    }
  });

  it('keeps the row and fails on a transient error, so the message is retried', async () => {
    const { graph, store, run } = setup();
    graph.failRemoval = new ProviderUnavailableError(503, 'ServiceUnavailable', 'try later');
    await expect(run()).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(store.removals.size).toBe(1);
  });
});
