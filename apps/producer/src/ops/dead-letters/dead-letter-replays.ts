import { Inject, Injectable } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { CacheKeys, REDIS_CLUSTER } from '@email-core/cache';
import { projectTopics, Topics } from '@email-core/contracts';
import { OpsKafka } from '../ops-kafka';
import type { DeadLetterRecord } from './dead-letter-reader';

/** How long a replay is remembered: as long as the dead-letter topic keeps the message itself. */
export const DEAD_LETTER_RETENTION_MS = Number(
  projectTopics({ prefix: '', partitions: 1, replicationFactor: 1 })
    .find((t) => t.name === Topics.deadLetter)
    ?.configEntries.find((c) => c.name === 'retention.ms')?.value ?? 30 * 24 * 3600 * 1000,
);

export type DeadLetterRef = Pick<DeadLetterRecord, 'partition' | 'offset' | 'timestamp'>;

export type ReplayClaim = { claimed: true; previous: string | null } | { claimed: false; replayedAt: string };

/**
 * Which dead letters were replayed, and when: one Redis key per dead letter (no migration, gone with the message
 * it describes). A claim is atomic (`SET NX`), so two operators pressing Replay at once send it once.
 */
@Injectable()
export class DeadLetterReplays {
  private readonly topic: string;

  constructor(
    @Inject(REDIS_CLUSTER) private readonly redis: Cluster,
    kafka: OpsKafka,
  ) {
    this.topic = kafka.name(Topics.deadLetter);
  }

  private key(ref: DeadLetterRef): string {
    return CacheKeys.deadLetterReplay(this.topic, ref.partition, ref.offset, ref.timestamp);
  }

  /** when each of `refs` was replayed (`partition:offset` → ISO time), for those that were */
  async replayedAt(refs: DeadLetterRef[]): Promise<Map<string, string>> {
    if (refs.length === 0) return new Map();
    const values = await this.redis.mget(refs.map((r) => this.key(r)));
    const out = new Map<string, string>();
    refs.forEach((r, i) => {
      const v = values[i];
      if (v) out.set(`${r.partition}:${r.offset}`, v);
    });
    return out;
  }

  /**
   * Records a replay at `at` before it is sent. Without `force`, a dead letter replayed before is not claimed
   * (its time is returned); with it, the record is overwritten and the previous time returned for `release`.
   */
  async claim(ref: DeadLetterRef, at: string, force: boolean): Promise<ReplayClaim> {
    const key = this.key(ref);
    if (force) {
      const previous = await this.redis.set(key, at, 'PX', DEAD_LETTER_RETENTION_MS, 'GET');
      return { claimed: true, previous };
    }
    const set = await this.redis.set(key, at, 'PX', DEAD_LETTER_RETENTION_MS, 'NX');
    if (set === 'OK') return { claimed: true, previous: null };
    return { claimed: false, replayedAt: (await this.redis.get(key)) ?? at };
  }

  /** A claimed replay that could not be sent: back to how it was. */
  async release(ref: DeadLetterRef, previous: string | null): Promise<void> {
    const key = this.key(ref);
    if (previous === null) await this.redis.del(key);
    else await this.redis.set(key, previous, 'PX', DEAD_LETTER_RETENTION_MS);
  }
}
