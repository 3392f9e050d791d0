import { Logger, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import type { ProducerConfig } from '@email-core/config';
import { GraphSubscriptionsRepository } from '@email-core/database';
import { createKafka, KafkaPublisher } from '@email-core/kafka';
import { PRODUCER_CONFIG } from '../config.module';
import { ProducerMetrics } from '../metrics/producer-metrics';
import { AcceptChangeNotificationsHandler } from './commands/accept-change-notifications/accept-change-notifications.handler';
import { AcceptLifecycleNotificationsHandler } from './commands/accept-lifecycle-notifications/accept-lifecycle-notifications.handler';
import { GraphWebhookController } from './graph-webhook.controller';
import { SubscriptionRoutes } from './subscription-routes';
import { UnknownIdBudget } from './unknown-id-budget';
import { WebhookDropLog } from './webhook-drop-log';
import { WEBHOOK_KAFKA_PUBLISHER, WebhookPublisher } from './webhook-publisher';

/**
 * The Graph webhook (architecture data flow 4): `POST /api/v1/graph/notifications` and `/graph/lifecycle`.
 *
 * - Validation handshake: `?validationToken=` → 200 `text/plain; charset=utf-8`, `nosniff`, the decoded token
 *   and nothing else (never HTML); over 1,024 characters → 400.
 * - Body: read by `graphWebhookBody` (main.ts mounts it on these two routes only), at most
 *   `WEBHOOK_MAX_BODY_BYTES` → else 413 `PAYLOAD_TOO_LARGE`; not JSON → 400 `INVALID_JSON`; not Graph's
 *   `{value: [...]}` → 400 `INVALID_NOTIFICATION`; more than `WEBHOOK_MAX_ITEMS` items → 413
 *   `TOO_MANY_NOTIFICATIONS`, before any lookup.
 * - The POST's subscriptions are looked up together (SubscriptionRoutes: one Postgres query for whatever the
 *   30 s / 1 s in-process cache does not hold), and each item's clientState's SHA-256 compared with the stored
 *   hash in constant time. A source that has sent more than `WEBHOOK_UNKNOWN_IDS_PER_MINUTE` unknown ids gets 429
 *   `RATE_LIMITED` before any lookup (UnknownIdBudget). An unknown subscription or a
 *   wrong clientState drops that item (counted in a log line, no secrets) and the well-formed request is still
 *   answered 202: Graph cannot do anything useful with a 4xx, an expired or deleted subscription's stragglers are
 *   expected, and a forger learns nothing from the answer. What is accepted is published to Kafka (acks all),
 *   grouped per account, and only then is the request answered 202; if Kafka or Postgres fails, 503 so Graph
 *   delivers again (at least once; the workers treat notifications as idempotent pokes).
 * - The use cases are CQRS command handlers (AcceptChangeNotifications, AcceptLifecycleNotifications); the
 *   bus adds microseconds, and the hot path's real costs (the lookup, the Kafka round trip) are shared: the
 *   cache, and a group commit that lets concurrent requests share produce requests.
 */
@Module({
  imports: [CqrsModule],
  controllers: [GraphWebhookController],
  providers: [
    {
      provide: GraphSubscriptionsRepository,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new GraphSubscriptionsRepository(ds),
    },
    {
      provide: SubscriptionRoutes,
      inject: [GraphSubscriptionsRepository],
      useFactory: (subscriptions: GraphSubscriptionsRepository) => new SubscriptionRoutes(subscriptions),
    },
    {
      provide: WEBHOOK_KAFKA_PUBLISHER,
      inject: [PRODUCER_CONFIG],
      useFactory: (config: ProducerConfig) => {
        const logger = new Logger('GraphWebhookKafka');
        const kafka = createKafka({
          brokers: config.kafka.brokers,
          clientId: `${config.kafka.clientId}-webhook`,
          // fail fast: a notification answered 503 is delivered again by Graph, one answered late is not
          connectionTimeout: 1000,
          requestTimeout: 2000,
          retries: 2,
          // WebhookPublisher reports failed publishes itself (throttled); kafkajs' retries are detail
          log: (_level, message) => logger.debug(`kafka: ${message}`),
        });
        return new KafkaPublisher(kafka);
      },
    },
    {
      provide: UnknownIdBudget,
      inject: [PRODUCER_CONFIG],
      useFactory: (config: ProducerConfig) =>
        new UnknownIdBudget({ limit: config.webhook.unknownIdsPerMinute, windowMs: 60_000 }),
    },
    {
      provide: WebhookDropLog,
      inject: [ProducerMetrics],
      useFactory: (metrics: ProducerMetrics) =>
        new WebhookDropLog(Date.now, (outcome, count) => metrics.webhookNotifications(outcome, count)),
    },
    WebhookPublisher,
    AcceptChangeNotificationsHandler,
    AcceptLifecycleNotificationsHandler,
  ],
})
export class GraphWebhookModule {}
