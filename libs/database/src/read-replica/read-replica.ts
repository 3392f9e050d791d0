import { Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { parseLsn } from './lsn';
import { ReplicaLagTracker } from './replica-lag';

export interface ReadReplicaOptions {
  /** a replica further behind than this serves no reads until it has caught up (READ_REPLICA_MAX_LAG_MS) */
  maxLagMs: number;
  /** how often the primary's WAL position and the replica's replay position are sampled */
  probeEveryMs: number;
  /** a probe slower than this counts as the replica (or primary) not answering */
  probeTimeoutMs: number;
}

export const DEFAULT_READ_REPLICA_OPTIONS: ReadReplicaOptions = {
  maxLagMs: 2000,
  probeEveryMs: 200,
  probeTimeoutMs: 1000,
};

/** What `/health` and the Ops page show about the read side. */
export interface ReadReplicaStatus {
  /** a replica is configured (DATABASE_READ_URL) */
  configured: boolean;
  /** reads go to it now (subject to each account's watermark) */
  serving: boolean;
  /** why it serves no reads, when it does not */
  reason: string | null;
  /** how far behind the primary its replay is (ms; see ReplicaLagTracker), null before the first probe */
  lagMs: number | null;
  /** WAL bytes the primary has written that the replica has not replayed yet */
  lagBytes: number | null;
  /** when the last probe answered (ISO), null if none has */
  checkedAt: string | null;
  /** reads served by each side since the process started, and replica reads retried on the primary */
  reads: { replica: number; primary: number; fallbacks: number };
}

/**
 * The account's write watermark as the query side knows it: the WAL position after its last recorded write,
 * `null` when none was ever recorded, `undefined` when it could not be read (Redis unavailable).
 */
export type Watermark = number | null | undefined;

export type ReadSide = 'replica' | 'primary';

const RECOVERY_CONFLICT = /conflict with recovery/i;

/**
 * Errors that say the replica itself is gone or unusable (not that the query is wrong): connection refused,
 * reset or cut, a timeout, the server shutting down or starting up, a query cancelled by a recovery conflict.
 */
export function isReplicaFailure(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; driverError?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const inner = (e.driverError ?? e) as { code?: unknown; message?: unknown };
  const code = typeof inner.code === 'string' ? inner.code : typeof e.code === 'string' ? e.code : '';
  const text = (m: unknown) => (typeof m === 'string' ? m : '');
  const message = `${text(inner.message)} ${text(e.message)}`;
  if (/^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND)$/.test(code)) return true;
  if (/^08/.test(code) || /^57P0[1-4]$/.test(code)) return true; // connection exception; shutdown, cannot connect
  if ((code === '40001' || code === '40P01') && RECOVERY_CONFLICT.test(message)) return true;
  return /Connection terminated|connection timeout|timeout exceeded|Query read timeout|not queryable|ECONNREFUSED/i.test(
    message,
  );
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
};

/**
 * The CQRS read side (issue 21): query handlers read a streaming replica when one is configured, healthy, close
 * enough to the primary, and has replayed the account's last write; otherwise the primary.
 *
 * - Probing: every `probeEveryMs` the primary's `pg_current_wal_lsn()` and the replica's `pg_is_in_recovery()`
 *   and `pg_last_wal_replay_lsn()` are read; the lag is measured against the primary's sampled positions
 *   (ReplicaLagTracker), so an idle pair reads 0 and a paused replica falls behind by the clock.
 * - Read-your-writes: the consumer (and the producer, for its own writes) records the WAL position after each
 *   committed write of an account, with the account's cache version (libs/cache `CacheKeys.accountWal`); a read
 *   whose account watermark is beyond the replica's last probed replay position goes to the primary.
 * - Failure: a probe that fails or times out takes the replica out at once, the next successful probe brings it
 *   back (within `probeEveryMs`); a read that fails on the replica for a replica reason is run again on the
 *   primary, and takes the replica out until the next probe. No read fails because of the replica.
 */
export class ReadReplica implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ReadReplica');
  private readonly options: ReadReplicaOptions;
  private readonly lag = new ReplicaLagTracker();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private probing: Promise<void> | undefined;
  private replayLsn: number | null = null;
  private primaryLsn: number | null = null;
  private serving = false;
  private reason: string | null = 'not probed yet';
  private lagMs: number | null = null;
  private checkedAt: number | null = null;
  private readonly counts = { replica: 0, primary: 0, fallbacks: 0 };
  private initializing: Promise<unknown> | undefined;

  constructor(
    private readonly primary: DataSource,
    private readonly replica: DataSource | undefined,
    options: Partial<ReadReplicaOptions> = {},
  ) {
    this.options = { ...DEFAULT_READ_REPLICA_OPTIONS, ...options };
    if (!replica) this.reason = 'no replica configured (DATABASE_READ_URL unset)';
  }

  onApplicationBootstrap(): void {
    if (!this.replica) return;
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.probing;
    await this.initializing?.catch(() => undefined);
    if (this.replica?.isInitialized) await this.replica.destroy().catch(() => undefined);
  }

  /** Which side a read of an account with this watermark goes to now. */
  route(watermark: Watermark): ReadSide {
    if (!this.replica?.isInitialized || !this.serving || this.replayLsn === null) return 'primary';
    if (watermark === undefined) return 'primary';
    if (watermark !== null && watermark > this.replayLsn) return 'primary';
    return 'replica';
  }

  /**
   * Runs `read` against the side `route` picks; a replica that fails it for a replica reason is taken out and the
   * read runs again on the primary.
   */
  async read<T>(watermark: Watermark, read: (db: DataSource) => Promise<T>): Promise<T> {
    if (this.route(watermark) === 'primary' || !this.replica) {
      this.counts.primary++;
      return read(this.primary);
    }
    try {
      const value = await read(this.replica);
      this.counts.replica++;
      return value;
    } catch (err) {
      if (isReplicaFailure(err)) this.takeOut(`a read failed: ${(err as Error).message}`);
      this.counts.fallbacks++;
      this.counts.primary++;
      return read(this.primary);
    }
  }

  status(): ReadReplicaStatus {
    return {
      configured: Boolean(this.replica),
      serving: Boolean(this.replica) && this.serving,
      reason: this.serving ? null : this.reason,
      lagMs: this.lagMs,
      lagBytes:
        this.primaryLsn !== null && this.replayLsn !== null
          ? Math.max(0, this.primaryLsn - this.replayLsn)
          : null,
      checkedAt: this.checkedAt === null ? null : new Date(this.checkedAt).toISOString(),
      reads: { ...this.counts },
    };
  }

  /** One probe now (tests call it to skip the wait for the next one). */
  probeNow(): Promise<void> {
    this.probing ??= this.probe().finally(() => (this.probing = undefined));
    return this.probing;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.probeNow().finally(() => this.schedule(this.options.probeEveryMs));
    }, delayMs);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    const replica = this.replica;
    if (!replica) return;
    const { probeTimeoutMs } = this.options;
    try {
      if (!replica.isInitialized) {
        this.initializing ??= replica.initialize().finally(() => (this.initializing = undefined));
        await withTimeout(this.initializing, probeTimeoutMs * 5, 'the replica');
      }
      const [primaryRows, replicaRows] = await Promise.all([
        this.primary.isInitialized
          ? withTimeout(
              this.primary.query<Array<{ lsn: string }>>('SELECT pg_current_wal_lsn()::text AS lsn'),
              probeTimeoutMs,
              'the primary',
            )
          : Promise.resolve(undefined),
        withTimeout(
          replica.query<Array<{ recovery: boolean; replay: string | null }>>(
            'SELECT pg_is_in_recovery() AS recovery, pg_last_wal_replay_lsn()::text AS replay',
          ),
          probeTimeoutMs,
          'the replica',
        ),
      ]);
      const now = Date.now();
      if (primaryRows?.[0]) {
        this.primaryLsn = parseLsn(primaryRows[0].lsn);
        this.lag.recordPrimary(now, this.primaryLsn);
      }
      const row = replicaRows[0];
      if (!row?.recovery || !row.replay) {
        this.takeOut('it is not in recovery (not a standby): reads stay on the primary');
        return;
      }
      this.replayLsn = parseLsn(row.replay);
      this.checkedAt = now;
      this.lagMs = this.primaryLsn === null ? null : this.lag.lagMs(this.replayLsn, now);
      if (this.lagMs === null) {
        this.takeOut('the primary is not connected yet');
      } else if (this.lagMs > this.options.maxLagMs) {
        this.takeOut(
          `it lags ${this.lagMs} ms behind the primary (READ_REPLICA_MAX_LAG_MS ${this.options.maxLagMs})`,
        );
      } else {
        this.bringBack();
      }
    } catch (err) {
      this.takeOut(`it does not answer: ${(err as Error).message}`);
    }
  }

  private takeOut(reason: string): void {
    if (this.serving) this.logger.warn(`replica serves no reads: ${reason}`);
    this.serving = false;
    this.reason = reason;
  }

  private bringBack(): void {
    if (!this.serving) this.logger.log(`replica serves reads (lag ${this.lagMs ?? '?'} ms)`);
    this.serving = true;
    this.reason = null;
  }
}
