import { projectTopics } from '@email-core/contracts';
import { createDataSource, runMigrationsLocked } from '@email-core/database';
import { createKafka, ensureTopics } from '@email-core/kafka';
import type { StackEndpoints } from './types';

export interface ProvisionOptions {
  /** Topic prefix; the deployment's KAFKA_TOPIC_PREFIX (empty by default), or a test run's own. */
  topicPrefix?: string;
  partitions?: number;
  replicationFactor?: number;
}

/** Runs migrations on the project's database and creates the project's topics. Idempotent. */
export async function provisionProject(
  endpoints: StackEndpoints,
  log: (msg: string) => void,
  opts: ProvisionOptions = {},
): Promise<void> {
  const dataSource = createDataSource({
    url: endpoints.databaseUrl,
    poolSize: 2,
    applicationName: 'email-core-stack',
  });
  await dataSource.initialize();
  try {
    const applied = await runMigrationsLocked(dataSource);
    log(`postgres: ${applied.length === 0 ? 'schema up to date' : `applied ${applied.join(', ')}`}`);
  } finally {
    await dataSource.destroy();
  }

  const admin = createKafka({ brokers: endpoints.kafkaBrokers, clientId: 'email-core-stack' }).admin();
  await admin.connect();
  try {
    const specs = projectTopics({
      prefix: opts.topicPrefix ?? process.env.KAFKA_TOPIC_PREFIX ?? '',
      partitions: opts.partitions ?? Number(process.env.KAFKA_TOPIC_PARTITIONS ?? 6),
      replicationFactor: opts.replicationFactor ?? Number(process.env.KAFKA_REPLICATION_FACTOR ?? 1),
    });
    const result = await ensureTopics(admin, specs);
    log(
      `kafka: ${specs.length} topics x ${specs[0]?.numPartitions ?? 0} partitions ` +
        `(created ${result.created.length}, grown ${result.grown.length}, unchanged ${result.unchanged.length})`,
    );
  } finally {
    await admin.disconnect();
  }
}
