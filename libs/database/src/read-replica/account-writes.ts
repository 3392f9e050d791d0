import type { Cluster } from 'ioredis';
import type { DataSource } from 'typeorm';
import { CacheKeys } from '@email-core/cache';
import { prepared } from '../prepared';
import { parseLsn } from './lsn';

/**
 * KEYS[1] the account's cache version, KEYS[2] its WAL watermark; ARGV[1] the WAL position after the write (or
 * '' when it could not be read). The watermark only moves forward (two writers may record out of order); the
 * version is bumped in the same call, so no reader sees the new version with the old watermark.
 */
const RECORD_WRITE_SCRIPT = `
if ARGV[1] ~= '' then
  local current = tonumber(redis.call('GET', KEYS[2]) or '0')
  if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[2], ARGV[1]) end
end
return redis.call('INCR', KEYS[1])`;

/** the primary's WAL position, as text (`parseLsn` reads it) */
export const WAL_POSITION_SQL = 'SELECT pg_current_wal_lsn()::text AS lsn';
/** after every page a live round commits (read-your-writes), so prepared once per connection */
const CURRENT_WAL_SQL = prepared(WAL_POSITION_SQL);

/** How long the bump waits for a Redis replica to have it (`WAIT 1 <ms>`). */
const REPLICA_WAIT_MS = 200;

/** The primary's WAL position now: after a commit has returned, at or beyond that commit's record. */
export async function currentWalPosition(db: DataSource): Promise<number> {
  const rows = await db.query<Array<{ lsn: string }>>(CURRENT_WAL_SQL);
  return parseLsn(rows[0].lsn);
}

/**
 * Records that an account's data changed, after the write committed: its WAL watermark (for the read side's
 * read-your-writes, ReadReplica) and a new cache version (for the query cache), in one Lua call to the account's
 * slot, followed by `WAIT 1` so an acknowledged record is on a Redis replica too and survives a failover.
 * Answers undefined when recorded and replicated, else why not (the caller retries). A WAL position that could
 * not be read still bumps the version (stale cache entries must go), and reports a failure, so the retry records
 * the watermark.
 */
export async function recordAccountWrite(
  redis: Cluster,
  db: DataSource,
  accountId: string,
  /** the WAL position read after the write's commit, when its committer read it (else it is read here) */
  walPosition?: number,
): Promise<string | undefined> {
  let lsn = walPosition === undefined ? '' : String(walPosition);
  let lsnFailure: string | undefined;
  if (walPosition === undefined) {
    try {
      lsn = String(await currentWalPosition(db));
    } catch (err) {
      lsnFailure = `WAL position unknown: ${(err as Error).message}`;
    }
  }
  try {
    const replies = await redis
      .pipeline()
      .eval(RECORD_WRITE_SCRIPT, 2, CacheKeys.accountVersion(accountId), CacheKeys.accountWal(accountId), lsn)
      .call('WAIT', '1', String(REPLICA_WAIT_MS))
      .exec();
    const failed = replies?.find(([err]) => err)?.[0];
    if (!replies || replies.length !== 2 || failed) return failed?.message ?? 'no reply';
    if (Number(replies[1][1]) < 1) return 'no replica acknowledged it';
    return lsnFailure;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The watermark as MGET answered it: a byte position; null when none was ever recorded; undefined when the value
 * is unreadable (the read side then asks the primary).
 */
export function parseWatermark(raw: string | null): number | null | undefined {
  if (raw === null) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}
