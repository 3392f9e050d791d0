import { randomBytes, randomUUID } from 'node:crypto';
import { ConsoleLogger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Consumer, Kafka } from 'kafkajs';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { loadConsumerConfig, type ConsumerConfig } from '@email-core/config';
import { projectTopics, topicName, type Topics } from '@email-core/contracts';
import { createKafka, ensureTopics, KafkaPublisher, subscribeWhenReady } from '@email-core/kafka';
import { currentTestRun, imapAdapterTestEnv, testRunEnv, waitFor } from '@email-core/testing';
import { AppModule, type AppModuleOptions } from '../../app.module';

type ProjectTopic = (typeof Topics)[keyof typeof Topics];

export interface ConsumerHarnessOptions {
  /** names the harness's topic prefix (`<the test run's prefix><name>.`), so suites never share topics */
  name: string;
  /** consumer settings beyond the defaults below (e.g. `SYNC_PAGE_SIZE`) */
  env?: Record<string, string>;
  /** what the app gets besides the config: the adapters for its registry, round settings, ... */
  app?: AppModuleOptions;
  /** project topics whose messages the harness collects (parsed JSON, in arrival order), e.g. `Topics.events` */
  observe?: ProjectTopic[];
}

export interface ConsumerHarness {
  prefix: string;
  /** the harness's name of a project topic */
  topic(t: ProjectTopic): string;
  kafka: Kafka;
  publisher: KafkaPublisher;
  config: ConsumerConfig;
  app: TestingModule;
  /** a connection of the test's own to the test run's database */
  db: Client;
  /** a user row made for the suite's accounts */
  userId: string;
  /** what arrived on an observed topic so far */
  seen(t: ProjectTopic): unknown[];
  close(): Promise<void>;
}

/**
 * The consumer app in-process, as it boots, on the test run's Postgres, Kafka and Redis Cluster: the project's
 * topics under a prefix of the suite's own, a user for the suite's accounts, the app (AppModule) initialized and
 * connected to its database, and an observer collecting the topics the suite watches.
 */
export async function startConsumerHarness(options: ConsumerHarnessOptions): Promise<ConsumerHarness> {
  const run = currentTestRun();
  const prefix = `${run.topicPrefix}${options.name}.`;
  const topic = (t: ProjectTopic) => topicName(prefix, t);
  const kafka = createKafka({ brokers: run.kafkaBrokers, clientId: `${prefix}it` });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, projectTopics({ prefix, partitions: 3, replicationFactor: 1 }));
  await admin.disconnect();

  const db = new Client({ connectionString: run.databaseUrl });
  await db.connect();
  const userId = randomUUID();
  await db.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')`, [
    userId,
    `${userId}@example.test`,
  ]);

  const seen = new Map<string, unknown[]>();
  let observer: Consumer | undefined;
  if (options.observe?.length) {
    for (const t of options.observe) seen.set(topic(t), []);
    observer = kafka.consumer({
      groupId: `${prefix}observer`,
      sessionTimeout: 10000,
      heartbeatInterval: 1000,
    });
    await observer.connect();
    await subscribeWhenReady(observer, { topics: [...seen.keys()], fromBeginning: true });
    await observer.run({
      eachMessage: ({ topic: t, message }) => {
        seen.get(t)?.push(JSON.parse(message.value?.toString() ?? 'null'));
        return Promise.resolve();
      },
    });
  }

  const config = loadConsumerConfig({
    ...testRunEnv(run),
    KAFKA_TOPIC_PREFIX: prefix,
    KAFKA_TOPIC_PARTITIONS: '3',
    KAFKA_RETRY_MAX_ATTEMPTS: '3',
    KAFKA_RETRY_BACKOFF_MS: '200,400',
    MS_CLIENT_ID: 'it',
    MS_CLIENT_SECRET: 'it-client-secret',
    TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    // the suites' accounts have no sealed credentials: the watchers' periodic check stays out of the way
    SUBSCRIPTION_CHECK_INTERVAL_MS: '3600000',
    // the IMAP adapter may reach the stack's mail server (127.0.0.1, the project CA)
    ...imapAdapterTestEnv(),
    ...options.env,
  });
  const app = await Test.createTestingModule({ imports: [AppModule.forRoot(config, options.app)] })
    .setLogger(new ConsoleLogger({ logLevels: ['error', 'warn'] }))
    .compile();
  await app.init();
  // the app connects to Postgres in the background once booted
  const dataSource = app.get(DataSource);
  await waitFor(() => Promise.resolve(dataSource.isInitialized || undefined), {
    timeoutMs: 30_000,
    what: 'the consumer database connection',
  });
  const publisher = new KafkaPublisher(kafka);

  return {
    prefix,
    topic,
    kafka,
    publisher,
    config,
    app,
    db,
    userId,
    seen: (t) => seen.get(topic(t)) ?? [],
    close: async () => {
      await app.close();
      await publisher.disconnect();
      await observer?.disconnect();
      await db.end();
    },
  };
}
