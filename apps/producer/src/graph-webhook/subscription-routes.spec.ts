import { randomUUID } from 'node:crypto';
import type { SubscriptionRoute } from '@email-core/database';
import { hashClientState } from './client-state';
import { SubscriptionRoutes } from './subscription-routes';

describe('SubscriptionRoutes', () => {
  const route = (clientState: string): SubscriptionRoute => ({
    accountId: randomUUID(),
    userId: randomUUID(),
    clientStateHash: hashClientState(clientState),
  });

  let now: number;
  let known: Map<string, SubscriptionRoute>;
  /** each query's ids */
  let queries: string[][];
  let fail: boolean;
  /** a counting fake of GraphSubscriptionsRepository.findRoutes */
  const repo = {
    findRoutes: (ids: readonly string[]) => {
      queries.push([...ids]);
      if (fail) return Promise.reject(new Error('connection refused'));
      return new Promise<Map<string, SubscriptionRoute>>((resolve) =>
        setImmediate(() =>
          resolve(new Map(ids.flatMap((id) => (known.has(id) ? [[id, known.get(id)!] as const] : [])))),
        ),
      );
    },
  };
  const routes = (opts: { maxEntries?: number } = {}) =>
    new SubscriptionRoutes(repo, { now: () => now, positiveTtlMs: 30_000, negativeTtlMs: 5_000, ...opts });
  const check = async (r: SubscriptionRoutes, id: string, clientState: string | null) =>
    SubscriptionRoutes.check(await r.resolve([id]), id, clientState);

  beforeEach(() => {
    now = 1_000_000;
    known = new Map([['sub-1', route('state-1')]]);
    queries = [];
    fail = false;
  });

  it('accepts a known subscription with its clientState, and names the account', async () => {
    const r = routes();
    expect(await check(r, 'sub-1', 'state-1')).toEqual({ ok: true, route: known.get('sub-1') });
  });

  it('tells an unknown subscription from a wrong clientState', async () => {
    const r = routes();
    expect(await check(r, 'sub-x', 'state-1')).toEqual({ ok: false, reason: 'unknownSubscription' });
    expect(await check(r, 'sub-1', 'state-2')).toEqual({ ok: false, reason: 'clientStateMismatch' });
    expect(await check(r, 'sub-1', null)).toEqual({ ok: false, reason: 'clientStateMismatch' });
  });

  it('resolves 1,000 made-up ids of one POST with ONE query, and remembers them as unknown', async () => {
    const r = routes();
    const ids = Array.from({ length: 1000 }, () => randomUUID());
    const resolved = await r.resolve([...ids, 'sub-1', ...ids]);
    expect(queries).toHaveLength(1);
    expect(queries[0]).toHaveLength(1001);
    expect([...resolved.values()].filter((v) => v === null)).toHaveLength(1000);
    expect(resolved.get('sub-1')).toEqual(known.get('sub-1'));
    // the same ids again within the negative TTL: no query at all
    await r.resolve(ids);
    expect(queries).toHaveLength(1);
    expect(r.isKnown('sub-1')).toBe(true);
    expect(r.isKnown(ids[0])).toBe(false);
  });

  it('shares one query among ids asked for in the same turn (both commands of a mixed POST, concurrent POSTs)', async () => {
    const r = routes();
    const [a, b, c] = await Promise.all([r.resolve(['x', 'y']), r.resolve(['y', 'sub-1']), r.resolve(['z'])]);
    expect(queries).toEqual([['x', 'y', 'sub-1', 'z']]);
    expect(a.get('x')).toBeNull();
    expect(b.get('sub-1')).toEqual(known.get('sub-1'));
    expect(c.get('z')).toBeNull();
  });

  it('queries once per subscription while cached, including concurrent first lookups', async () => {
    const r = routes();
    const results = await Promise.all(Array.from({ length: 50 }, () => check(r, 'sub-1', 'state-1')));
    expect(results.every((x) => x.ok)).toBe(true);
    await check(r, 'sub-1', 'forged');
    expect(queries).toEqual([['sub-1']]);
  });

  it('keeps a known subscription 30 s and an unknown one 5 s', async () => {
    const r = routes();
    await check(r, 'sub-1', 'state-1');
    await check(r, 'sub-new', 'state-n');
    known.set('sub-new', route('state-n'));
    now += 4_999;
    expect((await check(r, 'sub-new', 'state-n')).ok).toBe(false);
    now += 2;
    expect((await check(r, 'sub-new', 'state-n')).ok).toBe(true);
    expect(queries.flat()).toEqual(['sub-1', 'sub-new', 'sub-new']);
    now += 30_000 - 5_002;
    await check(r, 'sub-1', 'state-1');
    expect(queries).toHaveLength(3);
    now += 1;
    await check(r, 'sub-1', 'state-1');
    expect(queries).toHaveLength(4);
  });

  it('holds at most maxEntries of each kind, dropping the oldest tenth; unknown ids never evict known ones', async () => {
    const r = routes({ maxEntries: 10 });
    const ids = Array.from({ length: 11 }, (_, i) => `id-${i}`);
    for (const id of ids) await check(r, id, 's');
    expect(r.size).toBe(9);
    queries = [];
    await check(r, 'id-2', 's');
    await check(r, 'id-1', 's');
    expect(queries.flat()).toEqual(['id-1']);

    await check(r, 'sub-1', 'state-1');
    for (let i = 0; i < 30; i++) await check(r, `other-${i}`, 's');
    expect(r.isKnown('sub-1')).toBe(true);
  });

  it('rejects when the database fails, and remembers nothing', async () => {
    const r = routes();
    fail = true;
    await expect(check(r, 'sub-1', 'state-1')).rejects.toThrow('connection refused');
    fail = false;
    expect((await check(r, 'sub-1', 'state-1')).ok).toBe(true);
    expect(queries).toEqual([['sub-1'], ['sub-1']]);
  });
});
