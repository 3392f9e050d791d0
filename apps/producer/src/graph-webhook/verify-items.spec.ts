import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { SubscriptionRoute } from '@email-core/database';
import { AppError } from '../http/app-error';
import { hashClientState } from './client-state';
import { SubscriptionRoutes } from './subscription-routes';
import { UnknownIdBudget } from './unknown-id-budget';
import { verifyItems, type ItemVerifier } from './verify-items';
import { WebhookDropLog } from './webhook-drop-log';

describe('verifyItems (issue 16: one webhook POST must not become thousands of lookups)', () => {
  const known: SubscriptionRoute = {
    accountId: randomUUID(),
    userId: randomUUID(),
    clientStateHash: hashClientState('state-1'),
  };
  let queries: number;
  let verifier: ItemVerifier;
  const item = (subscriptionId: string, clientState = 'state-1') => ({ subscriptionId, clientState });
  const madeUp = (n: number) => Array.from({ length: n }, () => item(randomUUID()));

  beforeEach(() => {
    queries = 0;
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    verifier = {
      // a counting fake of GraphSubscriptionsRepository
      routes: new SubscriptionRoutes({
        findRoutes: (ids) => {
          queries += 1;
          return Promise.resolve(new Map(ids.includes('sub-1') ? [['sub-1', known]] : []));
        },
      }),
      budget: new UnknownIdBudget({ limit: 2500 }),
      drops: new WebhookDropLog(),
    };
  });
  afterEach(() => jest.restoreAllMocks());

  it('costs ONE query for a POST of 1,000 made-up ids (and drops them all)', async () => {
    const result = await verifyItems(verifier, madeUp(1000), '198.51.100.1');
    expect(queries).toBe(1);
    expect(result).toEqual({ accepted: [], dropped: 1000 });
  });

  it('accepts the real items of a batch that mixes them with made-up ones, still in one query', async () => {
    const result = await verifyItems(
      verifier,
      [item('sub-1'), ...madeUp(10), item('sub-1', 'forged')],
      '198.51.100.1',
    );
    expect(queries).toBe(1);
    expect(result.accepted).toEqual([{ item: item('sub-1'), accountId: known.accountId }]);
    expect(result.dropped).toBe(11);
  });

  it('answers 429 RATE_LIMITED to a source past its unknown-id budget, before any lookup, and only to it', async () => {
    const source = '198.51.100.2';
    await verifyItems(verifier, madeUp(1000), source);
    await verifyItems(verifier, madeUp(1000), source);
    await verifyItems(verifier, madeUp(1000), source); // 3,000 > 2,500: the next one is refused
    expect(queries).toBe(3);
    const refused = verifyItems(verifier, madeUp(1), source);
    await expect(refused).rejects.toBeInstanceOf(AppError);
    await expect(refused).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      kind: 'rate_limited',
      retryAfterSeconds: 60,
    });
    expect(queries).toBe(3);
    // another address is not affected
    await verifyItems(verifier, madeUp(10), '198.51.100.3');
    expect(queries).toBe(4);
  });

  it('still lets a source past its budget deliver for subscriptions known from memory (Graph behind the same proxy)', async () => {
    const source = '198.51.100.4';
    await verifyItems(verifier, [item('sub-1')], source);
    await verifyItems(verifier, madeUp(1000), source);
    await verifyItems(verifier, madeUp(1000), source);
    await verifyItems(verifier, madeUp(1000), source);
    const result = await verifyItems(verifier, [item('sub-1'), item('sub-1', 'forged')], source);
    expect(result).toEqual({ accepted: [{ item: item('sub-1'), accountId: known.accountId }], dropped: 1 });
    await expect(verifyItems(verifier, [item('sub-1'), item('nope')], source)).rejects.toMatchObject({
      code: 'RATE_LIMITED',
    });
  });

  it('answers NOTIFICATIONS_UNAVAILABLE (503) when the lookup fails', async () => {
    verifier.routes = new SubscriptionRoutes({
      findRoutes: () => Promise.reject(new Error('pool exhausted')),
    });
    await expect(verifyItems(verifier, madeUp(3), '198.51.100.5')).rejects.toMatchObject({
      code: 'NOTIFICATIONS_UNAVAILABLE',
      kind: 'unavailable',
    });
  });
});
