import { z } from 'zod';
import { encryptionKeys, port, positiveInt } from './fields';
import { infraEnvShape, toInfraConfig, type InfraConfig } from './infra.config';
import { loadConfig } from './load-config';
import { microsoftEnvShape, toMicrosoftConfig, type MicrosoftConfig } from './microsoft.config';

const consumerEnv = z.object({
  ...infraEnvShape,
  ...microsoftEnvShape,
  CONSUMER_PORT: port(3001),
  KAFKA_GROUP_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash, underscore')
    .default('email-core-workers'),
  GRAPH_MAX_CONCURRENCY_PER_MAILBOX: positiveInt(4),
  TOKEN_ENCRYPTION_KEYS: encryptionKeys,
});

export interface ConsumerConfig extends InfraConfig {
  app: 'consumer';
  port: number;
  groupId: string;
  graphMaxConcurrencyPerMailbox: number;
  tokenEncryptionKeys: Array<{ id: string; key: Buffer }>;
  microsoft: MicrosoftConfig;
}

export function loadConsumerConfig(env: NodeJS.ProcessEnv = process.env): ConsumerConfig {
  const e = loadConfig('consumer', consumerEnv, env);
  return {
    ...toInfraConfig(e),
    app: 'consumer',
    port: e.CONSUMER_PORT,
    groupId: e.KAFKA_GROUP_ID,
    graphMaxConcurrencyPerMailbox: e.GRAPH_MAX_CONCURRENCY_PER_MAILBOX,
    tokenEncryptionKeys: e.TOKEN_ENCRYPTION_KEYS,
    microsoft: toMicrosoftConfig(e),
  };
}
