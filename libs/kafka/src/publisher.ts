import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { z } from 'zod';

export interface PublishOptions<T> {
  /** validated before sending; a value that fails is never sent */
  schema?: z.ZodType<T, z.ZodTypeDef, unknown>;
  headers?: Record<string, string>;
}

export interface PublisherOptions {
  /** idempotent producer (no duplicates from producer retries); on by default, off for brokers without it */
  idempotent?: boolean;
}

/**
 * The one way the product writes to Kafka: acks from all in-sync replicas, an idempotent producer, every
 * message keyed (by account id) so one mailbox's messages stay ordered on one partition.
 */
export class KafkaPublisher {
  private readonly producer: Producer;
  private connecting: Promise<void> | undefined;

  constructor(kafka: Kafka, opts: PublisherOptions = {}) {
    const idempotent = opts.idempotent ?? true;
    // kafkajs keeps ordering under retries only with one request in flight when idempotent.
    this.producer = kafka.producer({
      idempotent,
      maxInFlightRequests: idempotent ? 1 : undefined,
      allowAutoTopicCreation: false,
      // murmur2, the Java client's partitioner: a key lands on the same partition whoever produces it
      createPartitioner: Partitioners.DefaultPartitioner,
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
    messages: Array<{ key: string; value: T }>,
    opts: PublishOptions<T> = {},
  ): Promise<void> {
    if (messages.length === 0) return;
    const encoded = messages.map((m) => ({
      key: m.key,
      value: encodeValue(opts.schema ? opts.schema.parse(m.value) : m.value),
      headers: opts.headers,
    }));
    await this.connect();
    await this.producer.send({ topic, acks: -1, messages: encoded });
  }

  async disconnect(): Promise<void> {
    const connecting = this.connecting;
    this.connecting = undefined;
    if (!connecting) return;
    await connecting.catch(() => undefined);
    await this.producer.disconnect();
  }
}

function encodeValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function createPublisher(kafka: Kafka, opts?: PublisherOptions): KafkaPublisher {
  return new KafkaPublisher(kafka, opts);
}
