import { Logger } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { MetricsRegistry, parseExposition, sumOf } from '@email-core/metrics';
import { ProducerMetrics } from '../metrics/producer-metrics';
import { canonicalJson, MailQueryCache, queryHash } from './mail-query-cache';

/** the part of ioredis's Cluster the cache uses, over a Map */
function fakeRedis(opts: { status?: string; failWith?: Error; hang?: boolean } = {}) {
  const store = new Map<string, string>();
  const calls: string[] = [];
  const answer = <T>(value: T): Promise<T> => {
    if (opts.hang) return new Promise<T>(() => undefined);
    if (opts.failWith) return Promise.reject(opts.failWith);
    return Promise.resolve(value);
  };
  const redis = {
    status: opts.status ?? 'ready',
    get: (key: string) => {
      calls.push(`get ${key}`);
      return answer(store.get(key) ?? null);
    },
    mget: (...keys: string[]) => {
      calls.push(`mget ${keys.join(' ')}`);
      return answer(keys.map((k) => store.get(k) ?? null));
    },
    set: (key: string, value: string, _ex: 'EX', ttl: number) => {
      calls.push(`set ${key} ${ttl}`);
      store.set(key, value);
      return answer('OK');
    },
  };
  return { redis: redis as unknown as Cluster, store, calls };
}

const ACCOUNT = '6f1c1f1e-0000-4000-8000-000000000001';
const query = { kind: 'folders', userId: 'u1' };

describe('MailQueryCache', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterAll(() => {
    Logger.overrideLogger(true);
  });

  it('loads once, then serves the stored result under the account version (missing = 0)', async () => {
    const { redis, store, calls } = fakeRedis();
    const cache = new MailQueryCache(redis, { ttlSeconds: 60 });
    const load = jest.fn(() => Promise.resolve({ items: [1, 2] }));
    expect(await cache.getOrLoad(ACCOUNT, query, load)).toEqual({ items: [1, 2] });
    expect(await cache.getOrLoad(ACCOUNT, query, load)).toEqual({ items: [1, 2] });
    expect(load).toHaveBeenCalledTimes(1);
    const key = `{acct:${ACCOUNT}}:q:0:${queryHash(query)}`;
    expect(store.get(key)).toBe('{"items":[1,2]}');
    expect(calls).toEqual([
      `mget {acct:${ACCOUNT}}:v {acct:${ACCOUNT}}:wal`,
      `get ${key}`,
      `set ${key} 60`,
      `mget {acct:${ACCOUNT}}:v {acct:${ACCOUNT}}:wal`,
      `get ${key}`,
    ]);
  });

  it('a bumped version makes the old entry unreachable', async () => {
    const { redis, store } = fakeRedis();
    const cache = new MailQueryCache(redis);
    let n = 0;
    const load = () => Promise.resolve(++n);
    expect(await cache.getOrLoad(ACCOUNT, query, load)).toBe(1);
    store.set(`{acct:${ACCOUNT}}:v`, '1');
    expect(await cache.getOrLoad(ACCOUNT, query, load)).toBe(2);
    expect(await cache.getOrLoad(ACCOUNT, query, load)).toBe(2);
  });

  it('keys differ by user and by every query field, not by key order', () => {
    expect(queryHash({ kind: 'folders', userId: 'u1' })).not.toBe(
      queryHash({ kind: 'folders', userId: 'u2' }),
    );
    expect(queryHash({ a: 1, b: { c: 2, d: 3 } })).toBe(queryHash({ b: { d: 3, c: 2 }, a: 1 }));
    expect(queryHash({ a: 1, b: undefined })).toBe(queryHash({ a: 1 }));
    expect(canonicalJson({ b: [1, { z: 1, y: null }], a: 'x' })).toBe('{"a":"x","b":[1,{"y":null,"z":1}]}');
  });

  it('does not cache a failed load (a 404 stays a database answer)', async () => {
    const { redis, store } = fakeRedis();
    const cache = new MailQueryCache(redis);
    await expect(
      cache.getOrLoad(ACCOUNT, query, () => Promise.reject(new Error('ACCOUNT_NOT_FOUND'))),
    ).rejects.toThrow('ACCOUNT_NOT_FOUND');
    expect(store.size).toBe(0);
  });

  it('does not cache results larger than maxEntryBytes', async () => {
    const { redis, store } = fakeRedis();
    const cache = new MailQueryCache(redis, { maxEntryBytes: 10 });
    expect(await cache.getOrLoad(ACCOUNT, query, () => Promise.resolve('x'.repeat(50)))).toHaveLength(50);
    expect(store.size).toBe(0);
  });

  it.each([
    ['not connected', { status: 'reconnecting' }],
    ['failing', { failWith: new Error('CLUSTERDOWN') }],
    ['hanging', { hang: true }],
  ])('falls back to the database when Redis is %s', async (_what, opts) => {
    const { redis } = fakeRedis(opts);
    const cache = new MailQueryCache(redis, { timeoutMs: 20 });
    const started = Date.now();
    expect(await cache.getOrLoad(ACCOUNT, query, () => Promise.resolve('from-db'))).toBe('from-db');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("hands the load the account's WAL watermark from the same MGET: null when none was recorded", async () => {
    const { redis, store } = fakeRedis();
    const cache = new MailQueryCache(redis);
    const seen: unknown[] = [];
    await cache.getOrLoad(ACCOUNT, query, (w) => Promise.resolve(seen.push(w)));
    store.set(`{acct:${ACCOUNT}}:v`, '3');
    store.set(`{acct:${ACCOUNT}}:wal`, '50331648');
    await cache.getOrLoad(ACCOUNT, query, (w) => Promise.resolve(seen.push(w)));
    store.set(`{acct:${ACCOUNT}}:v`, '4');
    store.set(`{acct:${ACCOUNT}}:wal`, 'garbage');
    await cache.getOrLoad(ACCOUNT, query, (w) => Promise.resolve(seen.push(w)));
    expect(seen).toEqual([null, 50331648, undefined]);
  });

  it('an unknown watermark (Redis failing) reaches the load as undefined: the primary answers', async () => {
    const { redis } = fakeRedis({ failWith: new Error('CLUSTERDOWN') });
    const cache = new MailQueryCache(redis, { timeoutMs: 20 });
    const seen: unknown[] = [];
    await cache.getOrLoad(ACCOUNT, query, (w) => Promise.resolve(seen.push(w)));
    expect(seen).toEqual([undefined]);
  });

  it('treats an unreadable entry as a miss', async () => {
    const { redis, store } = fakeRedis();
    const cache = new MailQueryCache(redis);
    store.set(`{acct:${ACCOUNT}}:q:0:${queryHash(query)}`, '{not json');
    expect(await cache.getOrLoad(ACCOUNT, query, () => Promise.resolve('fresh'))).toBe('fresh');
  });

  describe('email_core_query_cache_requests_total', () => {
    const counted = () => {
      const registry = new MetricsRegistry({ defaultMetrics: false });
      const metrics = new ProducerMetrics(registry);
      return {
        metrics,
        results: async () => {
          const samples = parseExposition(await registry.metrics());
          const of = (result: string) => sumOf(samples, 'email_core_query_cache_requests_total', { result });
          return { hit: of('hit'), miss: of('miss'), error: of('error') };
        },
      };
    };

    it('counts a miss (loaded and stored), then a hit; an unreadable entry is a miss', async () => {
      const { redis, store } = fakeRedis();
      const { metrics, results } = counted();
      const cache = new MailQueryCache(redis, {}, metrics);
      await cache.getOrLoad(ACCOUNT, query, () => Promise.resolve('a'));
      await cache.getOrLoad(ACCOUNT, query, () => Promise.resolve('a'));
      expect(await results()).toEqual({ hit: 1, miss: 1, error: 0 });
      store.set(`{acct:${ACCOUNT}}:q:0:${queryHash(query)}`, '{not json');
      await cache.getOrLoad(ACCOUNT, query, () => Promise.resolve('a'));
      expect(await results()).toEqual({ hit: 1, miss: 2, error: 0 });
    });

    it.each([
      ['not connected', { status: 'reconnecting' }],
      ['failing', { failWith: new Error('CLUSTERDOWN') }],
      ['hanging', { hang: true }],
    ])('counts an error when Redis is %s (Postgres answers)', async (_what, opts) => {
      const { redis } = fakeRedis(opts);
      const { metrics, results } = counted();
      const cache = new MailQueryCache(redis, { timeoutMs: 20 }, metrics);
      expect(await cache.getOrLoad(ACCOUNT, query, () => Promise.resolve('db'))).toBe('db');
      expect(await results()).toEqual({ hit: 0, miss: 0, error: 1 });
    });

    it('counts an error when the version answers but the entry lookup fails', async () => {
      const { redis } = fakeRedis();
      const { metrics, results } = counted();
      (redis as unknown as { get: () => Promise<never> }).get = () => Promise.reject(new Error('MOVED'));
      const cache = new MailQueryCache(redis, {}, metrics);
      expect(await cache.getOrLoad(ACCOUNT, query, () => Promise.resolve('db'))).toBe('db');
      expect(await results()).toEqual({ hit: 0, miss: 0, error: 1 });
    });
  });
});
