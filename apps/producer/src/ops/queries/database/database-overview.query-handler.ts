import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { ReadReplica, type ReadReplicaStatus } from '@email-core/database';
import type { DatabaseOverviewDto, DatabasePrimaryDto, DatabaseReplicaDto } from './database-overview.dto';
import { GetDatabaseOverviewQuery } from './database-overview.query';

/** the primary's query answers within this, or the answer says it did not */
export const PRIMARY_TIMEOUT_MS = 1000;

const PRIMARY_SQL =
  'SELECT pg_is_in_recovery() AS recovery, ' +
  'CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS lsn';

type PrimaryRow = { recovery: boolean; lsn: string | null };

/**
 * The replica's part is ReadReplica's last probe (it probes every 200 ms; nothing is asked of the replica here).
 * The primary's part is one cheap query on the app's pool per request: `pg_is_in_recovery()` and
 * `pg_current_wal_lsn()`; a query still running from an earlier request is waited for, never a second one.
 */
@QueryHandler(GetDatabaseOverviewQuery)
export class GetDatabaseOverviewQueryHandler implements IQueryHandler<
  GetDatabaseOverviewQuery,
  DatabaseOverviewDto
> {
  private inflight: Promise<PrimaryRow[]> | undefined;

  constructor(
    private readonly primary: DataSource,
    private readonly readReplica: ReadReplica,
  ) {}

  async execute(): Promise<DatabaseOverviewDto> {
    const primary = await this.primaryBasics();
    return {
      fetchedAt: new Date().toISOString(),
      primary,
      replica: replicaView(this.readReplica.status()),
    };
  }

  private async primaryBasics(): Promise<DatabasePrimaryDto> {
    const down = (error: string): DatabasePrimaryDto => ({
      reachable: false,
      inRecovery: null,
      walLsn: null,
      latencyMs: null,
      error,
    });
    if (!this.primary.isInitialized) return down('not connected yet');
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      this.inflight ??= this.primary
        .query<PrimaryRow[]>(PRIMARY_SQL)
        .finally(() => (this.inflight = undefined));
      const rows = await Promise.race([
        this.inflight,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the primary did not answer within ${PRIMARY_TIMEOUT_MS} ms`)),
            PRIMARY_TIMEOUT_MS,
          );
          timer.unref();
        }),
      ]);
      const row = rows[0];
      return {
        reachable: true,
        inRecovery: row?.recovery ?? null,
        walLsn: row?.lsn ?? null,
        latencyMs: Date.now() - started,
        error: null,
      };
    } catch (err) {
      return down(err instanceof Error ? err.message : String(err));
    } finally {
      clearTimeout(timer);
    }
  }
}

/** ReadReplica's status with the state `/health` reports too: serving, degraded (with the reason) or off. */
export function replicaView(s: ReadReplicaStatus): DatabaseReplicaDto {
  return {
    state: !s.configured ? 'off' : s.serving ? 'serving' : 'degraded',
    configured: s.configured,
    serving: s.serving,
    reason: s.reason,
    lagMs: s.lagMs,
    lagBytes: s.lagBytes,
    checkedAt: s.checkedAt,
    reads: { replica: s.reads.replica, primary: s.reads.primary, fallbacks: s.reads.fallbacks },
  };
}
