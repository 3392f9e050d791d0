import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AdminError } from '../admin/admin-error';
import { AdminHooks } from '../faults/admin-hooks';
import { FireLifecycleHandler, type LifecycleResult } from './commands/fire-lifecycle.handler';
import type { LifecycleEvent, SubscriptionSummary } from './domain/subscription';
import { SubscriptionRepository } from './domain/subscription.repository';
import { NotificationSender } from './delivery/notification-sender';
import { ListSubscriptionsQueryHandler } from './queries/list-subscriptions.query-handler';

/** what the rest of the emulator (admin API, faults, reset) may ask of subscriptions */
@Injectable()
export class SubscriptionsService implements OnModuleInit {
  constructor(
    private readonly lifecycle: FireLifecycleHandler,
    private readonly query: ListSubscriptionsQueryHandler,
    private readonly repo: SubscriptionRepository,
    private readonly sender: NotificationSender,
    private readonly hooks: AdminHooks,
  ) {}

  /** `POST /_emulator/faults {lifecycle}` and `POST /_emulator/reset` reach subscriptions through the hooks */
  onModuleInit(): void {
    this.hooks.fireLifecycle = (id, event) =>
      Promise.resolve().then(() => this.fireLifecycleOrFail(id, event));
    this.hooks.onReset(() => this.reset());
  }

  /** sends the lifecycle event and applies it; undefined when there is no such subscription */
  fireLifecycle(subscriptionId: string, event: LifecycleEvent): LifecycleResult | undefined {
    return this.lifecycle.execute(subscriptionId, event);
  }

  /** the same, answering 404 `subscription_not_found` (admin shape) when there is no such subscription */
  fireLifecycleOrFail(subscriptionId: string, event: LifecycleEvent): LifecycleResult {
    const result = this.fireLifecycle(subscriptionId, event);
    if (!result) throw new AdminError(404, 'subscription_not_found', `no subscription ${subscriptionId}`);
    return result;
  }

  list(): SubscriptionSummary[] {
    return this.query.summaries();
  }

  /** forgets every subscription and cancels all queued, scheduled and in-flight deliveries */
  reset(): void {
    this.repo.clear();
    this.sender.reset();
  }
}
