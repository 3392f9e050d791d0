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
  let queries: string[];
  let fail: boolean;
  const repo = {
    findRoute: (id: string) => {
      queries.push(id);
      if (fail) return Promise.reject(new Error('connection refused'));
      return new Promise<SubscriptionRoute | null>((resolve) =>
        setImmediate(() => resolve(known.get(id) ?? null)),
      );
    },
  };
  const routes = (opts: { maxEntries?: number } = {}) =>
    new SubscriptionRoutes(repo, { now: () => now, positiveTtlMs: 30_000, negativeTtlMs: 5_000, ...opts });

  beforeEach(() => {
    now = 1_000_000;
    known = new Map([['sub-1', route('state-1')]]);
    queries = [];
    fail = false;
  });

  it('accepts a known subscription with its clientState, and names the account', async () => {
    const r = routes();
    expect(await r.check('sub-1', 'state-1')).toEqual({ ok: true, route: known.get('sub-1') });
  });

  it('tells an unknown subscription from a wrong clientState', async () => {
    const r = routes();
    expect(await r.check('sub-x', 'state-1')).toEqual({ ok: false, reason: 'unknownSubscription' });
    expect(await r.check('sub-1', 'state-2')).toEqual({ ok: false, reason: 'clientStateMismatch' });
    expect(await r.check('sub-1', null)).toEqual({ ok: false, reason: 'clientStateMismatch' });
  });

  it('queries once per subscription while cached, including concurrent first lookups', async () => {
    const r = routes();
    const results = await Promise.all(Array.from({ length: 50 }, () => r.check('sub-1', 'state-1')));
    expect(results.every((x) => x.ok)).toBe(true);
    await r.check('sub-1', 'forged');
    expect(queries).toEqual(['sub-1']);
  });

  it('keeps a known subscription 30 s and an unknown one 5 s', async () => {
    const r = routes();
    await r.check('sub-1', 'state-1');
    await r.check('sub-new', 'state-n');
    known.set('sub-new', route('state-n'));
    now += 4_999;
    expect((await r.check('sub-new', 'state-n')).ok).toBe(false);
    now += 2;
    expect((await r.check('sub-new', 'state-n')).ok).toBe(true);
    expect(queries).toEqual(['sub-1', 'sub-new', 'sub-new']);
    now += 30_000 - 5_002;
    await r.check('sub-1', 'state-1');
    expect(queries).toHaveLength(3);
    now += 1;
    await r.check('sub-1', 'state-1');
    expect(queries).toHaveLength(4);
  });

  it('holds at most maxEntries, dropping the oldest', async () => {
    const r = routes({ maxEntries: 3 });
    for (const id of ['a', 'b', 'c', 'd']) await r.check(id, 's');
    expect(r.size).toBe(3);
    await r.check('b', 's');
    await r.check('a', 's');
    expect(queries).toEqual(['a', 'b', 'c', 'd', 'a']);
  });

  it('rejects when the database fails, and remembers nothing', async () => {
    const r = routes();
    fail = true;
    await expect(r.check('sub-1', 'state-1')).rejects.toThrow('connection refused');
    fail = false;
    expect((await r.check('sub-1', 'state-1')).ok).toBe(true);
    expect(queries).toEqual(['sub-1', 'sub-1']);
  });
});
