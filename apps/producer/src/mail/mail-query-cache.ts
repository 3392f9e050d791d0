import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { CacheKeys, REDIS_CLUSTER } from '@email-core/cache';
import { parseWatermark, type Watermark } from '@email-core/database';
import { ProducerMetrics } from '../metrics/producer-metrics';

export const MAIL_QUERY_CACHE_OPTIONS = Symbol('MAIL_QUERY_CACHE_OPTIONS');

export interface MailQueryCacheOptions {
  /** how long an entry lives even if no write ever bumps the account's version */
  ttlSeconds: number;
  /** a Redis call slower than this counts as a failure: the request goes to Postgres instead */
  timeoutMs: number;
  /** results larger than this (serialised) are not cached: a huge body would crowd out many list pages */
  maxEntryBytes: number;
}

const DEFAULTS: MailQueryCacheOptions = { ttlSeconds: 60, timeoutMs: 250, maxEntryBytes: 512 * 1024 };

/** bump when the shape of a cached result changes, so a deploy never serves the old shape */
const FORMAT = 1;
const FAILED = Symbol('FAILED');
const WARN_EVERY_MS = 30_000;

/** JSON with object keys sorted and undefined members dropped: equal queries hash equally. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** sha256 (hex) of the canonical query; callers put the user id in it, so no entry is shared across users */
export function queryHash(query: Record<string, unknown>): string {
  return createHash('sha256')
    .update(canonicalJson({ ...query, format: FORMAT }))
    .digest('hex');
}

/**
 * The versioned query cache of mail reads, in the Redis Cluster.
 *
 * - Key: `CacheKeys.query(accountId, version, sha256(query))`, where `version` is the account's counter the
 *   consumer INCRs after each committed write batch (missing = 0): a write makes every older entry unreachable
 *   at once, and the TTL reclaims them.
 * - The version is read BEFORE the database: if a write lands meanwhile, the result is stored under the old
 *   version, which nobody asks for any more, so a stale result can never be stored under the new version.
 * - Ownership: the query always carries the user id, and only a successful (owner-checked) load is stored, so
 *   an entry is reachable only by the user the database already said owns the account. Errors (404s) are never
 *   cached. Account ids never change owner (an unlink deletes the account; the unlink must bump the version).
 * - Redis is an optimisation: not connected, slow (over `timeoutMs`) or failing means the database answers;
 *   a cache problem is logged (at most every 30 s) and never fails a request.
 * - Read-your-writes (issue 21): the version and the account's WAL watermark come in one MGET (one slot; the
 *   writer sets both in one Lua call), and `load` gets the watermark: the read side (ReadReplica) reads the
 *   primary while the replica has not replayed that far. A result loaded from a replica that had the watermark
 *   holds every write up to that version, so it is safe to store under it. Redis failing gives `load` an unknown
 *   watermark (undefined): the primary answers.
 */
@Injectable()
export class MailQueryCache {
  private readonly logger = new Logger('MailQueryCache');
  private readonly options: MailQueryCacheOptions;
  private lastWarnAt = 0;

  constructor(
    @Inject(REDIS_CLUSTER) private readonly redis: Cluster,
    @Optional() @Inject(MAIL_QUERY_CACHE_OPTIONS) options?: Partial<MailQueryCacheOptions>,
    @Optional() private readonly metrics?: ProducerMetrics,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  async getOrLoad<T>(
    accountId: string,
    query: Record<string, unknown>,
    load: (watermark: Watermark) => Promise<T>,
  ): Promise<T> {
    const hash = queryHash(query);
    const marks = await this.attempt(() =>
      this.redis.mget(CacheKeys.accountVersion(accountId), CacheKeys.accountWal(accountId)),
    );
    if (marks === FAILED) {
      this.metrics?.queryCache('error');
      return load(undefined);
    }
    const [version, wal] = marks;
    const watermark = parseWatermark(wal ?? null);
    const key = CacheKeys.query(accountId, parseVersion(version ?? null), hash);
    const cached = await this.attempt(() => this.redis.get(key));
    if (typeof cached === 'string') {
      try {
        const hit = JSON.parse(cached) as T;
        this.metrics?.queryCache('hit');
        return hit;
      } catch {
        // an unreadable entry is a miss; the SET below replaces it
      }
    }
    this.metrics?.queryCache(cached === FAILED ? 'error' : 'miss');
    const value = await load(watermark);
    const json = JSON.stringify(value);
    if (cached !== FAILED && Buffer.byteLength(json) <= this.options.maxEntryBytes) {
      await this.attempt(() => this.redis.set(key, json, 'EX', this.options.ttlSeconds));
    }
    return value;
  }

  private async attempt<R>(op: () => Promise<R>): Promise<R | typeof FAILED> {
    // while the cluster is (re)connecting, commands would wait in ioredis's offline queue: skip Redis at once
    if (this.redis.status !== 'ready') {
      this.warn(`Redis Cluster is ${this.redis.status}`);
      return FAILED;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof FAILED>((resolve) => {
      timer = setTimeout(() => {
        this.warn(`Redis did not answer within ${this.options.timeoutMs} ms`);
        resolve(FAILED);
      }, this.options.timeoutMs);
      timer.unref();
    });
    const call = op().catch((err: unknown): typeof FAILED => {
      this.warn(err instanceof Error ? err.message : String(err));
      return FAILED;
    });
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private warn(reason: string): void {
    const now = Date.now();
    if (now - this.lastWarnAt < WARN_EVERY_MS) return;
    this.lastWarnAt = now;
    this.logger.warn(`query cache unavailable, reading from Postgres: ${reason}`);
  }
}

function parseVersion(raw: string | null): number {
  if (raw === null) return 0;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}
