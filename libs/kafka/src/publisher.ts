import { Partitioners, type ICustomPartitioner, type Kafka, type Message, type Producer } from 'kafkajs';
import type { z } from 'zod';
import { currentCorrelationId } from '@email-core/logging';
import { correlationHeaders } from './correlation-headers';

export interface PublishOptions<T> {
  /** validated before sending; a value that fails is never sent */
  schema?: z.ZodType<T, z.ZodTypeDef, unknown>;
  /** headers of every message (a message's own `headers` win) */
  headers?: Record<string, string>;
}

/**
 * One message to send. It carries the current work's correlation id (`x-correlation-id`) unless its own `headers`
 * name another: a batch gathered from several requests gives each message the id of the request it came from.
 */
export interface OutgoingMessage<T> {
  key: string;
  value: T;
  headers?: Record<string, string>;
}

export interface PublisherOptions {
  /** idempotent producer (no duplicates from producer retries); on by default, off for brokers without it */
  idempotent?: boolean;
}

/** A send waiting for the one in flight: its messages, and who waits for them. */
interface QueuedSend {
  topic: string;
  messages: Message[];
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** what one coalesced request carries at most (message values): well under the broker's 1 MB per batch */
const MAX_COALESCED_BYTES = 256 * 1024;

/**
 * The one way the product writes to Kafka: acks from all in-sync replicas, an idempotent producer, every
 * message keyed (by account id) so one mailbox's messages stay ordered on one partition.
 *
 * One request in flight at a time (an idempotent producer keeps its order under retries only so): sends made
 * while one is in flight wait and then go together, in the order they were made, in one request (a send of many
 * topics at once), instead of one request each behind it (issue 20: 500 rounds a second each publishing its
 * `mail.changed` queued one produce round trip after another). Each send resolves once its messages are acked; if
 * a request of several sends fails, each of them is tried again alone, so one send's failure (a message too large,
 * say) is its own.
 */
export class KafkaPublisher {
  private readonly producer: Producer;
  private connecting: Promise<void> | undefined;
  private readonly queue: QueuedSend[] = [];
  private sending = false;

  constructor(kafka: Kafka, opts: PublisherOptions = {}) {
    const idempotent = opts.idempotent ?? true;
    // kafkajs keeps ordering under retries only with one request in flight when idempotent.
    this.producer = kafka.producer({
      idempotent,
      maxInFlightRequests: idempotent ? 1 : undefined,
      allowAutoTopicCreation: false,
      // murmur2, the Java client's partitioner: a key lands on the same partition whoever produces it
      createPartitioner: memoizedKeyPartitioner(Partitioners.DefaultPartitioner),
    });
  }

  connect(): Promise<void> {
    this.connecting ??= this.producer.connect().catch((err: unknown) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  /** Sends one message and resolves once every in-sync replica has it. Objects are sent as JSON. */
  async publish<T>(topic: string, key: string, value: T, opts: PublishOptions<T> = {}): Promise<void> {
    await this.publishMany(topic, [{ key, value }], opts);
  }

  async publishMany<T>(
    topic: string,
    messages: Array<OutgoingMessage<T>>,
    opts: PublishOptions<T> = {},
  ): Promise<void> {
    if (messages.length === 0) return;
    // the work's correlation id (an HTTP request's id is its correlation id: libs/logging http-logger)
    const shared = {
      ...correlationHeaders(currentCorrelationId()),
      ...opts.headers,
    };
    const encoded = messages.map((m) => ({
      key: m.key,
      value: encodeValue(opts.schema ? opts.schema.parse(m.value) : m.value),
      headers: m.headers ? { ...shared, ...m.headers } : shared,
    }));
    await this.connect();
    const bytes = encoded.reduce((n, m) => n + m.value.length, 0);
    await new Promise<void>((resolve, reject) => {
      this.queue.push({ topic, messages: encoded, bytes, resolve, reject });
      this.flush();
    });
  }

  /** Sends what waits, as one request (up to MAX_COALESCED_BYTES), once the request in flight is answered. */
  private flush(): void {
    if (this.sending || this.queue.length === 0) return;
    let bytes = this.queue[0].bytes;
    let n = 1;
    while (n < this.queue.length && bytes + this.queue[n].bytes <= MAX_COALESCED_BYTES) {
      bytes += this.queue[n].bytes;
      n += 1;
    }
    const batch = this.queue.splice(0, n);
    this.sending = true;
    void this.sendTogether(batch)
      .catch(async () => {
        // one request of several failed: each send alone, so a failure is only its own
        for (const one of batch) await this.sendTogether([one]).catch(() => undefined);
      })
      .finally(() => {
        this.sending = false;
        this.flush();
      });
  }

  /** One request for `batch`; settles each of its sends when it fails alone, or all of them when it succeeds. */
  private async sendTogether(batch: QueuedSend[]): Promise<void> {
    const topics = new Map<string, Message[]>();
    for (const s of batch) {
      const messages = topics.get(s.topic);
      if (messages) messages.push(...s.messages);
      else topics.set(s.topic, [...s.messages]);
    }
    try {
      if (topics.size === 1) {
        await this.producer.send({ topic: batch[0].topic, acks: -1, messages: [...topics.values()][0] });
      } else {
        await this.producer.sendBatch({
          acks: -1,
          topicMessages: [...topics].map(([topic, messages]) => ({ topic, messages })),
        });
      }
    } catch (err) {
      if (batch.length > 1) throw err;
      batch[0].reject(err);
      return;
    }
    for (const s of batch) s.resolve();
  }

  async disconnect(): Promise<void> {
    const connecting = this.connecting;
    this.connecting = undefined;
    if (!connecting) return;
    await connecting.catch(() => undefined);
    await this.producer.disconnect();
  }
}

/** keys whose partition is remembered, per publisher; past it the memory starts over */
const MAX_REMEMBERED_KEYS = 50_000;

/**
 * `inner` (kafkajs' DefaultPartitioner: murmur2 of the key modulo the topic's partition count), with the partition
 * of a string key remembered per topic and partition count, so the same key's hash is not computed again for every
 * message (issue 20: murmur2 in JavaScript was 8% of the webhook's CPU with 100-item POSTs). The answer is the
 * same: the default partitioner's result for a key depends only on the key and the number of partitions. Messages
 * with an explicit partition or no key go to `inner` every time.
 */
export function memoizedKeyPartitioner(inner: ICustomPartitioner): ICustomPartitioner {
  return () => {
    const partition = inner();
    const remembered = new Map<string, number>();
    return (args) => {
      const { topic, partitionMetadata, message } = args;
      if (typeof message.key !== 'string' || (message.partition !== null && message.partition !== undefined))
        return partition(args);
      const id = `${topic}\u0000${partitionMetadata.length}\u0000${message.key}`;
      let p = remembered.get(id);
      if (p === undefined) {
        p = partition(args);
        if (remembered.size >= MAX_REMEMBERED_KEYS) remembered.clear();
        remembered.set(id, p);
      }
      return p;
    };
  };
}

function encodeValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function createPublisher(kafka: Kafka, opts?: PublisherOptions): KafkaPublisher {
  return new KafkaPublisher(kafka, opts);
}
