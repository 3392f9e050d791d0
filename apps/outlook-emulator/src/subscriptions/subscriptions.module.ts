import { Module } from '@nestjs/common';
import type { EmulatorConfig } from '@email-core/config';
import { EMULATOR_CONFIG } from '../core.module';
import { CreateSubscriptionHandler } from './commands/create-subscription.handler';
import { DeleteSubscriptionHandler } from './commands/delete-subscription.handler';
import { FireLifecycleHandler } from './commands/fire-lifecycle.handler';
import { ReauthorizeSubscriptionHandler } from './commands/reauthorize-subscription.handler';
import { RenewSubscriptionHandler } from './commands/renew-subscription.handler';
import { ChangeNotifier } from './delivery/change-notifier';
import { NotificationSender } from './delivery/notification-sender';
import { ValidationHandshake } from './delivery/validation-handshake';
import { WebhookClient } from './delivery/webhook-client';
import { SubscriptionRepository } from './domain/subscription.repository';
import { ExpiryWatch } from './expiry-watch';
import { ListSubscriptionsQueryHandler } from './queries/list-subscriptions.query-handler';
import { loadSubscriptionSettings, SUBSCRIPTION_SETTINGS } from './subscription-settings';
import { SubscriptionsAdminController } from './subscriptions-admin.controller';
import { SubscriptionsGraphRoutes } from './subscriptions-graph.routes';
import { SubscriptionsService } from './subscriptions.service';

/**
 * Graph change-notification subscriptions on mail: the `/v1.0/subscriptions` routes, the validation handshake,
 * batched webhook delivery with retries and faults, lifecycle events, and the admin view.
 */
@Module({
  controllers: [SubscriptionsAdminController],
  providers: [
    {
      provide: SUBSCRIPTION_SETTINGS,
      inject: [EMULATOR_CONFIG],
      useFactory: (config: EmulatorConfig) => loadSubscriptionSettings(config.subscriptionMaxMinutes),
    },
    SubscriptionRepository,
    WebhookClient,
    NotificationSender,
    ValidationHandshake,
    ChangeNotifier,
    CreateSubscriptionHandler,
    RenewSubscriptionHandler,
    ReauthorizeSubscriptionHandler,
    DeleteSubscriptionHandler,
    FireLifecycleHandler,
    ListSubscriptionsQueryHandler,
    ExpiryWatch,
    SubscriptionsGraphRoutes,
    SubscriptionsService,
  ],
  exports: [SubscriptionsService],
})
export class SubscriptionsModule {}
