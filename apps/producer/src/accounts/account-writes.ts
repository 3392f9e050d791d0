import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { DataSource } from 'typeorm';
import { REDIS_CLUSTER } from '@email-core/cache';
import { recordAccountWrite } from '@email-core/database';

/**
 * The producer's own writes of an account (linked, re-linked, unlinked), recorded like the consumer's: the WAL
 * watermark, so the user's next reads of it do not go to a replica that has not replayed the write yet (a fresh
 * link read as "not found", an unlinked account still listed), and a new cache version, so no cached result of
 * before the write is served. Best effort: the write has committed; a record that fails is logged, and the
 * replica's lag limit (READ_REPLICA_MAX_LAG_MS) bounds what a reader can miss.
 */
@Injectable()
export class AccountWrites {
  private readonly logger = new Logger('AccountWrites');

  constructor(
    @Inject(REDIS_CLUSTER) private readonly redis: Cluster,
    private readonly db: DataSource,
  ) {}

  async committed(accountId: string): Promise<void> {
    const failure = await recordAccountWrite(this.redis, this.db, accountId);
    if (failure) this.logger.warn(`write of account ${accountId} not recorded for the read side: ${failure}`);
  }
}
