import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { Topics } from '@email-core/contracts';
import { correlationIdOf, subscribeWhenReady, withTimeout } from '@email-core/kafka';
import { OpsKafka } from '../ops-kafka';
import { OpsErrors } from '../ops-errors';
import { newestRanges, singleRange, type OffsetRange, type PartitionOffsets } from './dead-letter-ranges';

/** One message of the dead-letter topic, as read (the value is the failure envelope, JSON). */
export interface DeadLetterRecord {
  partition: number;
  offset: string;
  key: string;
  value: string | null;
  /** the broker's timestamp, ms since the epoch */
  timestamp: string;
  /** its `x-correlation-id` header: the id the failed work's log lines carry (null when it has none) */
  correlationId: string | null;
}

/** a read that has not reached the end offsets by then answers 503 (Kafka is slow or gone) */
const READ_TIMEOUT_MS = 15000;

/**
 * Reads the dead-letter topic without touching any real consumer group. kafkajs reads only through a group, so
 * each read joins a group of its own (`<prefix>ops-dlq-reader-<uuid>`: not a project group, so the Ops page
 * does not list it), seeks each partition to the start of its range, stops each partition at the end offset
 * read just before, commits nothing, and deletes its group when done. The consumer workers' offsets are never
 * involved, so reading changes nothing about what they will process.
 */
@Injectable()
export class DeadLetterReader {
  private readonly logger = new Logger('DeadLetterReader');
  readonly topic: string;

  constructor(private readonly kafka: OpsKafka) {
    this.topic = kafka.name(Topics.deadLetter);
  }

  /** The newest `limit` dead letters, newest first. */
  async newest(limit: number): Promise<DeadLetterRecord[]> {
    const offsets = await this.kafka.withAdmin((admin) => this.partitionOffsets(admin));
    const records = await this.read(newestRanges(offsets, limit));
    return records
      .sort(
        (a, b) =>
          Number(BigInt(b.timestamp) - BigInt(a.timestamp)) ||
          b.partition - a.partition ||
          Number(BigInt(b.offset) - BigInt(a.offset)),
      )
      .slice(0, limit);
  }

  /** The dead letter at `partition`/`offset`, or null when the topic does not (or no longer) hold it. */
  async at(partition: number, offset: bigint): Promise<DeadLetterRecord | null> {
    const offsets = await this.kafka.withAdmin((admin) => this.partitionOffsets(admin));
    const range = singleRange(offsets, partition, offset);
    if (!range) return null;
    const [record] = await this.read([range]);
    return record ?? null;
  }

  private async partitionOffsets(admin: Admin): Promise<PartitionOffsets[]> {
    const present = new Set(await admin.listTopics());
    return present.has(this.topic) ? admin.fetchTopicOffsets(this.topic) : [];
  }

  private async read(ranges: OffsetRange[]): Promise<DeadLetterRecord[]> {
    if (ranges.length === 0) return [];
    const groupId = `${this.kafka.prefix}ops-dlq-reader-${randomUUID()}`;
    const consumer = this.kafka.kafka.consumer({
      groupId,
      sessionTimeout: 10000,
      heartbeatInterval: 3000,
      maxWaitTimeInMs: 200,
      allowAutoTopicCreation: false,
      // a crash fails this read (503); it is not restarted behind the request's back
      retry: { retries: 2, restartOnFailure: () => Promise.resolve(false) },
    });
    const wanted = new Map(ranges.map((r) => [r.partition, r]));
    const pending = new Set(wanted.keys());
    const found = new Map<string, DeadLetterRecord>();
    let finish: () => void = () => undefined;
    let fail: (err: unknown) => void = () => undefined;
    const done = new Promise<void>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    consumer.on(consumer.events.CRASH, (event) => fail(event.payload.error));
    try {
      await consumer.connect();
      // not from the beginning: until the seeks apply, the group's position is the end, so nothing old is read
      await subscribeWhenReady(consumer, { topics: [this.topic], fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        eachMessage: ({ partition, message }) => {
          const range = wanted.get(partition);
          if (!range || !pending.has(partition)) return Promise.resolve();
          const offset = BigInt(message.offset);
          if (offset >= range.from && offset < range.to) {
            found.set(`${partition}:${message.offset}`, {
              partition,
              offset: message.offset,
              key: message.key?.toString('utf8') ?? '',
              value: message.value?.toString('utf8') ?? null,
              timestamp: message.timestamp,
              correlationId: correlationIdOf(message.headers) ?? null,
            });
          }
          if (offset >= range.to - 1n) {
            pending.delete(partition);
            consumer.pause([{ topic: this.topic, partitions: [partition] }]);
            if (pending.size === 0) finish();
          }
          return Promise.resolve();
        },
      });
      for (const range of ranges) {
        consumer.seek({ topic: this.topic, partition: range.partition, offset: range.from.toString() });
      }
      await withTimeout(done, READ_TIMEOUT_MS, 'reading the dead-letter topic timed out');
      return [...found.values()];
    } catch (err) {
      throw OpsErrors.kafkaUnavailable(err);
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await this.deleteGroup(groupId);
    }
  }

  /** Best effort: a reader group left behind holds no offsets and expires with the broker's retention. */
  private async deleteGroup(groupId: string): Promise<void> {
    try {
      await this.kafka.withAdmin((admin) => admin.deleteGroups([groupId]));
    } catch (err) {
      this.logger.debug(
        `reader group ${groupId} not deleted: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
}
