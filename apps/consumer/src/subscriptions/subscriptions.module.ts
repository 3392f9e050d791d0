import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import type { ConsumerConfig } from '@email-core/config';
import { GraphSubscriptionsRepository } from '@email-core/database';
import { DeleteSubscriptionHandler } from './commands/delete-subscription/delete-subscription.handler';
import { EnsureSubscriptionHandler } from './commands/ensure-subscription/ensure-subscription.handler';
import { HandleSubscriptionLifecycleHandler } from './commands/handle-subscription-lifecycle/handle-subscription-lifecycle.handler';
import { CatchUpRequests } from './catch-up-requests';
import { PublicUrlCheck } from './public-url-check';
import { SubscriptionKeeper } from './subscription-keeper';
import { SubscriptionLock } from './subscription-lock';
import { SubscriptionRenewalJob } from './subscription-renewal.job';
import { SUBSCRIPTION_SETTINGS, type SubscriptionSettings } from './subscription.settings';
import { RedisSubscriptionWritePacer, SUBSCRIPTION_WRITE_PACER } from './subscription-write-budget';
import { SubscriptionsConsumer } from './subscriptions.consumer';
import { MAILBOX_WATCHES, RegistryWatches } from './watches';

const repository = <T>(type: new (ds: DataSource) => T): Provider => ({
  provide: type,
  inject: [DataSource],
  useFactory: (ds: DataSource) => new type(ds),
});

/**
 * Watchers (Graph subscriptions today, through the account's provider adapter): one per account, created,
 * renewed and replaced under a per-account lock; lifecycle events; deletion after unlinking; the renewal sweep.
 * Uses the mirror module's registry and the infrastructure (Postgres, Redis Cluster), which AppModule provides.
 */
@Module({})
export class SubscriptionsModule {
  static forRoot(config: ConsumerConfig, mirror: DynamicModule): DynamicModule {
    const settings: SubscriptionSettings = {
      notificationUrl: config.subscriptions.notificationUrl,
      lifecycleUrl: config.subscriptions.lifecycleUrl,
      lifetimeMinutes: config.subscriptions.lifetimeMinutes,
      renewBeforeMinutes: config.subscriptions.renewBeforeMinutes,
      checkIntervalMs: config.subscriptions.checkIntervalMs,
    };
    return {
      module: SubscriptionsModule,
      imports: [CqrsModule, mirror],
      providers: [
        { provide: SUBSCRIPTION_SETTINGS, useValue: settings },
        { provide: MAILBOX_WATCHES, useClass: RegistryWatches },
        repository(GraphSubscriptionsRepository),
        SubscriptionLock,
        { provide: SUBSCRIPTION_WRITE_PACER, useClass: RedisSubscriptionWritePacer },
        CatchUpRequests,
        SubscriptionKeeper,
        EnsureSubscriptionHandler,
        HandleSubscriptionLifecycleHandler,
        DeleteSubscriptionHandler,
        SubscriptionsConsumer,
        SubscriptionRenewalJob,
        PublicUrlCheck,
      ],
    };
  }
}
