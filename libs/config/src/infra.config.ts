import { z } from 'zod';
import {
  booleanFlag,
  hostPortList,
  logFormat,
  logLevel,
  nodeEnv,
  parseHostPort,
  positiveInt,
  postgresUrl,
  resolveLogFormat,
  type HostPort,
} from './fields';

/** Variables every stack-connected process (producer, consumer) reads. */
export const infraEnvShape = {
  NODE_ENV: nodeEnv,
  LOG_LEVEL: logLevel,
  LOG_FORMAT: logFormat,
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: postgresUrl,
  DATABASE_READ_URL: postgresUrl.optional(),
  DATABASE_POOL_SIZE: positiveInt(10),
  DATABASE_READ_POOL_SIZE: positiveInt(10),
  READ_REPLICA_MAX_LAG_MS: positiveInt(2000),
  MIGRATIONS_RUN: booleanFlag(true),
  DATABASE_PREPARED_STATEMENTS: booleanFlag(true),
  KAFKA_BROKERS: hostPortList,
  KAFKA_CLIENT_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash, underscore')
    .default('email-core'),
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, dot, dash, underscore only')
    .default(''),
  KAFKA_TOPIC_PARTITIONS: positiveInt(6),
  KAFKA_REPLICATION_FACTOR: positiveInt(1),
  REDIS_CLUSTER_NODES: hostPortList,
  REDIS_KEY_PREFIX: z.string().default('ec:'),
  REDIS_PASSWORD: z.string().optional(),
  HEALTH_CHECK_TIMEOUT_MS: positiveInt(2000),
  /** when set, `GET /metrics` answers only `Authorization: Bearer <METRICS_TOKEN>`; unset: open */
  METRICS_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters (e.g. `openssl rand -hex 32`)')
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces (it travels in an Authorization header)')
    .optional(),
} as const;

type InfraEnv = z.output<z.ZodObject<typeof infraEnvShape>>;

export interface InfraConfig {
  nodeEnv: InfraEnv['NODE_ENV'];
  logLevel: InfraEnv['LOG_LEVEL'];
  /** `LOG_FORMAT`, resolved: json (production's default) or pretty (development's) */
  logFormat: 'json' | 'pretty';
  host: string;
  database: {
    url: string;
    readUrl?: string;
    poolSize: number;
    readPoolSize: number;
    replicaMaxLagMs: number;
    migrationsRun: boolean;
    /** the hot statements as named prepared statements (off behind a pooler that does not keep them) */
    preparedStatements: boolean;
  };
  kafka: {
    brokers: string[];
    clientId: string;
    topicPrefix: string;
    partitions: number;
    replicationFactor: number;
  };
  redis: { nodes: HostPort[]; keyPrefix: string; password?: string };
  healthCheckTimeoutMs: number;
  /** `METRICS_TOKEN`: the bearer token `GET /metrics` requires; undefined: /metrics is open */
  metricsToken?: string;
}

export function toInfraConfig(env: InfraEnv): InfraConfig {
  return {
    nodeEnv: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    logFormat: resolveLogFormat(env.NODE_ENV, env.LOG_FORMAT),
    host: env.HOST,
    database: {
      url: env.DATABASE_URL,
      readUrl: env.DATABASE_READ_URL,
      poolSize: env.DATABASE_POOL_SIZE,
      readPoolSize: env.DATABASE_READ_POOL_SIZE,
      replicaMaxLagMs: env.READ_REPLICA_MAX_LAG_MS,
      migrationsRun: env.MIGRATIONS_RUN,
      preparedStatements: env.DATABASE_PREPARED_STATEMENTS,
    },
    kafka: {
      brokers: env.KAFKA_BROKERS,
      clientId: env.KAFKA_CLIENT_ID,
      topicPrefix: env.KAFKA_TOPIC_PREFIX,
      partitions: env.KAFKA_TOPIC_PARTITIONS,
      replicationFactor: env.KAFKA_REPLICATION_FACTOR,
    },
    redis: {
      nodes: env.REDIS_CLUSTER_NODES.map(parseHostPort),
      keyPrefix: env.REDIS_KEY_PREFIX,
      password: env.REDIS_PASSWORD,
    },
    healthCheckTimeoutMs: env.HEALTH_CHECK_TIMEOUT_MS,
    metricsToken: env.METRICS_TOKEN,
  };
}
