import { loadProducerConfig, type ProducerConfig } from '@email-core/config';
import { createKafka, KafkaPublisher, type PublishOptions } from '@email-core/kafka';

/** placeholders a unit spec's configuration needs to be well-formed; nothing is ever contacted */
const PLACEHOLDER_ENV: NodeJS.ProcessEnv = {
  DATABASE_URL: 'postgres://unit@127.0.0.1:1/unit',
  KAFKA_BROKERS: '127.0.0.1:1',
  REDIS_CLUSTER_NODES: '127.0.0.1:1',
  MS_CLIENT_ID: 'unit-client',
  MS_CLIENT_SECRET: 'unit-client-secret',
  TOKEN_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
  JWT_SECRET: 'unit-jwt-secret-unit-jwt-secret-unit',
};

/** The producer's real configuration, validated like at boot, from placeholders and `env` (a unit spec's). */
export function testProducerConfig(env: NodeJS.ProcessEnv = {}): ProducerConfig {
  return loadProducerConfig({ ...PLACEHOLDER_ENV, ...env });
}

export interface PublishedMessage {
  topic: string;
  key: string;
  value: unknown;
}

/**
 * The project's Kafka publisher with the broker left out: what would be sent is validated against its schema (as
 * the real one does) and recorded, and `failure`, while set, is what every send rejects with. It never connects.
 */
export class RecordingKafkaPublisher extends KafkaPublisher {
  readonly sent: PublishedMessage[] = [];
  /** one entry per send (a produce request), with its messages */
  readonly sends: PublishedMessage[][] = [];
  failure: Error | undefined;

  constructor() {
    super(createKafka({ brokers: ['127.0.0.1:1'], clientId: 'recording' }));
  }

  override connect(): Promise<void> {
    return Promise.resolve();
  }

  override async publishMany<T>(
    topic: string,
    messages: Array<{ key: string; value: T }>,
    opts: PublishOptions<T> = {},
  ): Promise<void> {
    await Promise.resolve();
    if (this.failure) throw this.failure;
    const batch = messages.map((m) => ({
      topic,
      key: m.key,
      value: opts.schema ? opts.schema.parse(m.value) : m.value,
    }));
    this.sends.push(batch);
    this.sent.push(...batch);
  }

  override disconnect(): Promise<void> {
    return Promise.resolve();
  }
}
