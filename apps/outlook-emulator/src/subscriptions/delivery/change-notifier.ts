import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { MailboxStore, type MailboxChange } from '../../store/mailbox-store';
import { changeNotification, matches } from '../domain/notification-payloads';
import { SubscriptionRepository } from '../domain/subscription.repository';
import { NotificationSender } from './notification-sender';

/** turns every mailbox change into a notification for each active subscription that wants it */
@Injectable()
export class ChangeNotifier implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger('Notifications');
  private stop: (() => void) | undefined;

  constructor(
    private readonly store: MailboxStore,
    private readonly repo: SubscriptionRepository,
    private readonly sender: NotificationSender,
  ) {}

  onModuleInit(): void {
    this.stop = this.store.onChange((change) => this.notify(change));
  }

  onModuleDestroy(): void {
    this.stop?.();
  }

  notify(change: MailboxChange): void {
    // the store calls listeners inside its writes: a failure here must not fail the write
    try {
      for (const sub of this.repo.activeOn(change.mailbox, Date.now())) {
        if (matches(sub, change))
          this.sender.enqueueChange(sub.notificationUrl, changeNotification(sub, change));
      }
    } catch (err) {
      this.log.error(
        `notifying a ${change.kind} failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
}
