import { Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { GraphSubscriptionsRepository } from '@email-core/database';
import { AuthModule } from '../auth/auth.module';
import { ReplayDeadLetterHandler } from './commands/replay-dead-letter/replay-dead-letter.handler';
import { DeadLetterReader } from './dead-letters/dead-letter-reader';
import { DeadLetterReplays } from './dead-letters/dead-letter-replays';
import { LiveSampler } from './live/live-sampler';
import { OpsAuditMiddleware } from './ops-audit';
import { OpsController } from './ops.controller';
import { OpsKafka } from './ops-kafka';
import { OpsOperatorGuard } from './ops-operator.guard';
import { GetDatabaseOverviewQueryHandler } from './queries/database/database-overview.query-handler';
import { ListDeadLettersQueryHandler } from './queries/dead-letters/list-dead-letters.query-handler';
import { GetKafkaOverviewQueryHandler } from './queries/kafka-overview/kafka-overview.query-handler';
import { GetLiveMetricsQueryHandler } from './queries/live/live-metrics.query-handler';
import { ListSubscriptionsQueryHandler } from './queries/subscriptions/list-subscriptions.query-handler';

/**
 * The Ops API (issue 7): Kafka topics and consumer-group lag, the dead-letter topic with replay, Graph
 * subscriptions, the database's primary and read replica (issue 21, ReadReplica's status), and the live panel's
 * figures (issue 22, LiveSampler: the metrics of this producer and the consumers, read every 5 s), for operators only:
 * users granted the role with `npm run ops:grant` (OpsOperatorGuard reads it from the database on every request).
 * Every answer is audit-logged (OpsAuditMiddleware, `ops-audit` lines). Kafka is read through its own client
 * (OpsKafka); replays are remembered in the Redis Cluster (DeadLetterReplays). See docs/ops.md.
 */
@Module({
  imports: [CqrsModule, AuthModule],
  controllers: [OpsController],
  providers: [
    {
      provide: GraphSubscriptionsRepository,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new GraphSubscriptionsRepository(ds),
    },
    OpsKafka,
    OpsOperatorGuard,
    DeadLetterReader,
    DeadLetterReplays,
    GetDatabaseOverviewQueryHandler,
    GetKafkaOverviewQueryHandler,
    GetLiveMetricsQueryHandler,
    LiveSampler,
    ListDeadLettersQueryHandler,
    ListSubscriptionsQueryHandler,
    ReplayDeadLetterHandler,
  ],
})
export class OpsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(OpsAuditMiddleware).forRoutes(OpsController);
  }
}
