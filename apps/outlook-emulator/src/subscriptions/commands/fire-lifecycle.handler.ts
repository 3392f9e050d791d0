import { Injectable, type OnModuleInit } from '@nestjs/common';
import { lifecycleNotification } from '../domain/notification-payloads';
import type { LifecycleEvent } from '../domain/subscription';
import { SubscriptionRepository } from '../domain/subscription.repository';
import { NotificationSender } from '../delivery/notification-sender';

export interface LifecycleResult {
  subscriptionId: string;
  lifecycleEvent: LifecycleEvent;
  /** false when the subscription has no lifecycleNotificationUrl: Graph then has nowhere to send it */
  sent: boolean;
}

/**
 * Sends a lifecycle event to the subscription's lifecycleNotificationUrl and applies it:
 * `subscriptionRemoved` deletes the subscription, `reauthorizationRequired` marks it until the app calls
 * `/reauthorize` or renews (it keeps delivering meanwhile), `missed` changes nothing. Notifications given up on
 * after the last retry raise `missed` too, as Graph does.
 */
@Injectable()
export class FireLifecycleHandler implements OnModuleInit {
  constructor(
    private readonly repo: SubscriptionRepository,
    private readonly sender: NotificationSender,
  ) {}

  onModuleInit(): void {
    this.sender.onUndeliverable((ids) => {
      for (const id of ids) this.execute(id, 'missed');
    });
  }

  /** undefined when there is no such subscription */
  execute(subscriptionId: string, event: LifecycleEvent): LifecycleResult | undefined {
    const sub = this.repo.get(subscriptionId);
    if (!sub) return undefined;
    if (event === 'subscriptionRemoved') this.repo.remove(sub.id);
    if (event === 'reauthorizationRequired') sub.needsReauthorization = true;
    const url = sub.lifecycleNotificationUrl;
    if (url) this.sender.sendLifecycle(url, lifecycleNotification(sub, event));
    return { subscriptionId, lifecycleEvent: event, sent: url !== null };
  }
}
