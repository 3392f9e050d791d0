export interface HostPort {
  host: string;
  port: number;
}

/** Where the three services answer. Written to .stack/endpoints.env as DATABASE_URL, KAFKA_BROKERS, REDIS_CLUSTER_NODES. */
export interface StackEndpoints {
  /** URL of the project's main database, e.g. postgres://postgres@127.0.0.1:5432/email_core */
  databaseUrl: string;
  /** e.g. ['127.0.0.1:9092'] */
  kafkaBrokers: string[];
  /** seed nodes of the Redis Cluster, e.g. 127.0.0.1:7000..7005 */
  redisClusterNodes: HostPort[];
  /** how each service was obtained */
  sources: { postgres: StackSource; kafka: StackSource; redis: StackSource };
}

export type StackSource = 'env' | 'docker' | 'local-started' | 'local-existing';
