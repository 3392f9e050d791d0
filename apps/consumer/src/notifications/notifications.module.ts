import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { ConsumerConfig } from '@email-core/config';
import { ApplyNotificationsHandler } from './apply-notifications/apply-notifications.handler';
import { GraphNotificationsConsumer } from './graph-notifications.consumer';
import { MailChangesPruneJob } from './mail-changes-prune.job';
import { NOTIFICATION_SETTINGS, type NotificationSettings } from './notifications.settings';

/**
 * Change processing: the `graph.notification` consumer (coalesced per account), the ApplyNotifications use case,
 * and the change log's prune. Uses the mirror's write path that SyncModule exports (folder delta, mailbox lock).
 */
@Module({})
export class NotificationsModule {
  static forRoot(config: ConsumerConfig, overrides: Partial<NotificationSettings> = {}): DynamicModule {
    const settings: NotificationSettings = {
      lockWaitMs: 20_000,
      maxLookups: 100,
      changesRetentionHours: config.notifications.changesRetentionHours,
      pruneIntervalMs: 3_600_000,
      ...overrides,
    };
    return {
      module: NotificationsModule,
      imports: [CqrsModule],
      providers: [
        { provide: NOTIFICATION_SETTINGS, useValue: settings },
        ApplyNotificationsHandler,
        GraphNotificationsConsumer,
        MailChangesPruneJob,
      ],
    };
  }
}
