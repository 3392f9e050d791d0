import type { StackEndpoints } from '@email-core/stack';

/** True when testcontainers can reach a container runtime. On machines without an engine this fails in well under a second. */
export async function dockerEngineAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

/**
 * Postgres 15, Kafka 3.9 (KRaft) and a six-node Redis Cluster in containers, for machines with Docker.
 * The Redis Cluster image runs with host networking because a cluster announces its own ports to clients.
 * Not exercised on the project's own CI machines, which have no engine (see docs/testing.md).
 */
export async function startContainers(): Promise<{ endpoints: StackEndpoints; stop: () => Promise<void> }> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const pg = await new PostgreSqlContainer('postgres:15')
    .withDatabase('email_core')
    .withUsername('postgres')
    .start();
  const kafka = await new GenericContainer('apache/kafka:3.9.1')
    .withExposedPorts({ container: 9092, host: 19092 })
    .withEnvironment({
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_LISTENERS: 'PLAINTEXT://:9092,CONTROLLER://:9093',
      KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://127.0.0.1:19092',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .start();
  const redis = await new GenericContainer('grokzen/redis-cluster:7.0.10')
    .withNetworkMode('host')
    .withEnvironment({ IP: '127.0.0.1', INITIAL_PORT: '17000' })
    .withWaitStrategy(Wait.forLogMessage(/Cluster state changed: ok/))
    .start();
  return {
    endpoints: {
      databaseUrl: pg.getConnectionUri(),
      kafkaBrokers: ['127.0.0.1:19092'],
      redisClusterNodes: [17000, 17001, 17002].map((port) => ({ host: '127.0.0.1', port })),
      sources: { postgres: 'docker', kafka: 'docker', redis: 'docker' },
    },
    stop: async () => {
      await Promise.all([pg.stop(), kafka.stop(), redis.stop()]);
    },
  };
}
