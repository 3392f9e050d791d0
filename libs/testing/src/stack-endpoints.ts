import type { StackEndpoints } from '@email-core/stack';

export type EndpointSource = 'env' | 'testcontainers' | 'local-stack';

export interface ResolvedEndpoints {
  endpoints: StackEndpoints;
  source: EndpointSource;
  /** Stops what this resolution started (testcontainers only; the local stack stays up for the next run). */
  stop: () => Promise<void>;
}

const parseNodes = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map((x) => {
      const i = x.lastIndexOf(':');
      return { host: x.slice(0, i), port: Number(x.slice(i + 1)) };
    });

/**
 * Where the tests find Postgres, Kafka and the Redis Cluster: endpoints given in the environment first,
 * then containers where a Docker engine answers, then the project's local stack (started if needed).
 */
export async function resolveStackEndpoints(log: (msg: string) => void): Promise<ResolvedEndpoints> {
  const { DATABASE_URL, DATABASE_READ_URL, KAFKA_BROKERS, REDIS_CLUSTER_NODES } = process.env;
  if (DATABASE_URL && KAFKA_BROKERS && REDIS_CLUSTER_NODES) {
    return {
      source: 'env',
      endpoints: {
        databaseUrl: DATABASE_URL,
        // a replica only when the environment names one too
        ...(DATABASE_READ_URL ? { databaseReadUrl: DATABASE_READ_URL } : {}),
        kafkaBrokers: KAFKA_BROKERS.split(',').map((s) => s.trim()),
        redisClusterNodes: parseNodes(REDIS_CLUSTER_NODES),
        sources: { postgres: 'env', kafka: 'env', redis: 'env' },
      },
      stop: () => Promise.resolve(),
    };
  }
  if (process.env.TEST_STACK !== 'local') {
    const { dockerEngineAnswers, startContainers } = await import('./containers');
    if (await dockerEngineAnswers()) {
      log('test stack: Docker engine found, starting containers');
      const started = await startContainers();
      return { source: 'testcontainers', endpoints: started.endpoints, stop: started.stop };
    }
  }
  const { ensureStack } = await import('@email-core/stack');
  const endpoints = await ensureStack({ log });
  return { source: 'local-stack', endpoints, stop: () => Promise.resolve() };
}
